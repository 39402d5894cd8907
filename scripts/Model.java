///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION Create a random-weight checkpoint (init) or describe one (inspect).

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.ModelCommand;

public class Model {
    public static void main(String... args) {
        System.exit(Cli.run(new ModelCommand(), args));
    }
}
