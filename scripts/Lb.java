///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION OpenAI load balancer: pooled, load-aware routing, failover before the first byte, SSE passthrough.

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.LbCommand;

public class Lb {
    public static void main(String... args) {
        System.exit(Cli.run(new LbCommand(), args));
    }
}
