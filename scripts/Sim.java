///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION Pod-scale prediction with simulated engines: calibrate a timing model from a real server.

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.SimCommand;

public class Sim {
    public static void main(String... args) {
        System.exit(Cli.run(new SimCommand(), args));
    }
}
