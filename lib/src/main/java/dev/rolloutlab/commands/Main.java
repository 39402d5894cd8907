package dev.rolloutlab.commands;

import dev.rolloutlab.util.ExitWithParent;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * One entry point for every alias, so lib can start its own tools in child processes ({@code java -cp …
 * dev.rolloutlab.commands.Main serve --shape tiny …}) exactly as the JBang scripts run them.
 */
public final class Main {
    private static final Map<String, Supplier<Object>> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("model", ModelCommand::new);
        COMMANDS.put("generate", GenerateCommand::new);
        COMMANDS.put("serve", ServeCommand::new);
        COMMANDS.put("weights", WeightsCommand::new);
        COMMANDS.put("bench", BenchCommand::new);
        COMMANDS.put("fanout", FanoutCommand::new);
        COMMANDS.put("lb", LbCommand::new);
        COMMANDS.put("agent", AgentCommand::new);
        COMMANDS.put("commander", CommanderCommand::new);
        COMMANDS.put("launch", LaunchCommand::new);
        COMMANDS.put("compare", CompareCommand::new);
        COMMANDS.put("report", ReportCommand::new);
        COMMANDS.put("kernel", KernelCommand::new);
        COMMANDS.put("sim", SimCommand::new);
    }

    private Main() {}

    public static void main(String[] args) {
        if (args.length == 0 || !COMMANDS.containsKey(args[0])) {
            System.err.println("usage: Main <" + String.join("|", COMMANDS.keySet()) + "> [flags]");
            System.exit(Cli.USAGE);
        }
        ExitWithParent.watch();
        System.exit(Cli.run(COMMANDS.get(args[0]).get(), Arrays.copyOfRange(args, 1, args.length)));
    }

    /** The aliases, in the order the catalog lists them. */
    public static Set<String> aliases() {
        return Collections.unmodifiableSet(COMMANDS.keySet());
    }

    public static Object command(String alias) {
        Supplier<Object> s = COMMANDS.get(alias);
        if (s == null) throw new IllegalArgumentException("unknown alias " + alias);
        return s.get();
    }
}
