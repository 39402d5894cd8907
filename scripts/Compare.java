///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION The main job: HTTP fanout vs in-process on one engine and workload, then the report.

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.CompareCommand;

public class Compare {
    public static void main(String... args) {
        System.exit(Cli.run(new CompareCommand(), args));
    }
}
