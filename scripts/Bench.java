///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION Load-test OpenAI endpoints; writes requests.jsonl, summary.csv/json and run.json.

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.BenchCommand;

public class Bench {
    public static void main(String... args) {
        System.exit(Cli.run(new BenchCommand(), args));
    }
}
