///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//SOURCES LibSources.java
//JAVA_OPTIONS --add-modules jdk.incubator.vector -Djava.awt.headless=true
//DESCRIPTION Serve the reference engine on N OpenAI-compatible ports in one process (--validate runs run_multi_openai_servers' check).

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.ServeCommand;

public class Serve {
    public static void main(String... args) {
        System.exit(Cli.run(new ServeCommand(), args));
    }
}
