///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION One in-process generation: prompt in, completion and token count out.

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.GenerateCommand;

public class Generate {
    public static void main(String... args) {
        System.exit(Cli.run(new GenerateCommand(), args));
    }
}
