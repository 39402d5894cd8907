///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION Start, check, tail or stop servers on many hosts over SSH.

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.LaunchCommand;

public class Launch {
    public static void main(String... args) {
        System.exit(Cli.run(new LaunchCommand(), args));
    }
}
