///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION Weight admin client: checksum, status, perturb, reload, update (one server or a registry).

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.WeightsCommand;

public class Weights {
    public static void main(String... args) {
        System.exit(Cli.run(new WeightsCommand(), args));
    }
}
