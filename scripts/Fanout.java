///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION One chat request to every backend of a registry in parallel (as fanout_client does).

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.FanoutCommand;

public class Fanout {
    public static void main(String... args) {
        System.exit(Cli.run(new FanoutCommand(), args));
    }
}
