package dev.rolloutlab.cli;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One entry point for every alias, so lib can start its own tools in child processes
 * ({@code java -cp … dev.rolloutlab.cli.Main serve --shape tiny …}) exactly as the JBang scripts run them.
 */
public final class Main {
    private static final Map<String, Supplier<Object>> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("model", dev.rolloutlab.engine.ModelCommand::new);
        COMMANDS.put("generate", dev.rolloutlab.engine.GenerateCommand::new);
        COMMANDS.put("serve", dev.rolloutlab.server.ServeCommand::new);
        COMMANDS.put("weights", dev.rolloutlab.server.WeightsCommand::new);
        COMMANDS.put("bench", dev.rolloutlab.bench.BenchCommand::new);
        COMMANDS.put("fanout", dev.rolloutlab.bench.FanoutCommand::new);
        COMMANDS.put("lb", dev.rolloutlab.lb.LbCommand::new);
        COMMANDS.put("agent", dev.rolloutlab.cluster.AgentCommand::new);
        COMMANDS.put("commander", dev.rolloutlab.cluster.CommanderCommand::new);
        COMMANDS.put("launch", dev.rolloutlab.cluster.LaunchCommand::new);
        COMMANDS.put("compare", dev.rolloutlab.compare.CompareCommand::new);
        COMMANDS.put("report", dev.rolloutlab.report.ReportCommand::new);
        COMMANDS.put("kernel", dev.rolloutlab.report.KernelCommand::new);
    }

    private Main() {
    }

    public static void main(String[] args) {
        if (args.length == 0 || !COMMANDS.containsKey(args[0])) {
            System.err.println("usage: Main <" + String.join("|", COMMANDS.keySet()) + "> [flags]");
            System.exit(Cli.USAGE);
        }
        System.exit(Cli.run(COMMANDS.get(args[0]).get(), Arrays.copyOfRange(args, 1, args.length)));
    }

    public static Object command(String alias) {
        Supplier<Object> s = COMMANDS.get(alias);
        if (s == null) throw new IllegalArgumentException("unknown alias " + alias);
        return s.get();
    }
}
