///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION Start local and agent-managed servers, wait until ready, publish the registry.

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.CommanderCommand;

public class Commander {
    public static void main(String... args) {
        System.exit(Cli.run(new CommanderCommand(), args));
    }
}
