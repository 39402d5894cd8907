///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION Worker agent: starts and stops templated servers for a commander (token-protected).

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.AgentCommand;

public class Agent {
    public static void main(String... args) {
        System.exit(Cli.run(new AgentCommand(), args));
    }
}
