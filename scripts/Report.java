///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION Plots and REPORT.md from a results folder.

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.ReportCommand;

public class Report {
    public static void main(String... args) {
        System.exit(Cli.run(new ReportCommand(), args));
    }
}
