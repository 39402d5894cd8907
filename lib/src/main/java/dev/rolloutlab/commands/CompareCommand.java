package dev.rolloutlab.commands;

import dev.rolloutlab.compare.Compare;
import dev.rolloutlab.compare.CompareConfig;
import dev.rolloutlab.bench.RunFolder;
import dev.rolloutlab.bench.SummaryText;
import dev.rolloutlab.report.Report;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code compare}: the main job — HTTP fanout vs in-process on one engine and workload, then the report. */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Run one workload through inproc, http1, httpN and lb (keep-alive and close), then the weight-freshness "
                + "experiment; write results/<run-id>/ with REPORT.md and plots. No flags = the embedded default.")
public final class CompareCommand implements Callable<Integer> {
    @Option(names = "--quick", description = "Tiny model, small grid: under a minute.")
    boolean quick;
    @Option(names = "--topologies", split = ",", description = "Subset of inproc,http1,httpN,lb. Default: all.")
    List<String> topologies;
    @Option(names = "--strategies", split = ",", description = "Weight-update strategies: inproc-swap,http-push-all,http-push-rolling,http-reload,http-restart, or none.")
    List<String> strategies;
    @Option(names = "--num-servers", description = "Ports for httpN and lb. Default: 4 (2 with --quick).")
    Integer numServers;
    @Mixin
    ModelChoice model;
    @Option(names = "--concurrency", description = "Requests in flight per leg. Default: 4.")
    Integer concurrency;
    @Option(names = "--targets", split = ",", description = "Run the HTTP legs against these external OpenAI servers instead of starting our own.")
    List<String> targets;
    @Option(names = "--endpoint", defaultValue = "auto", description = "completions, chat or auto (completions for our servers; "
            + "for --targets, probe once and use chat when completions is missing). Default: ${DEFAULT-VALUE}")
    String endpoint;
    @Option(names = "--out", description = "Results folder. Default: results/<timestamp>-compare.")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (topologies != null) {
            for (String t : topologies) {
                if (!CompareConfig.ALL_TOPOLOGIES.contains(t)) throw new Cli.UserError("--topologies: unknown " + t + " (choose from " + CompareConfig.ALL_TOPOLOGIES + ")");
            }
        }
        CompareConfig c = CompareConfig.defaults(quick).with(model.model, model.shape, topologies, numServers, concurrency, targets);
        if (strategies != null) {
            List<String> s = strategies.equals(List.of("none")) ? List.of() : strategies;
            for (String x : s) {
                if (!CompareConfig.ALL_STRATEGIES.contains(x)) throw new Cli.UserError("--strategies: unknown " + x + " (choose from " + CompareConfig.ALL_STRATEGIES + " or none)");
            }
            c = c.withStrategies(s);
        } else if (targets != null) {
            c = c.withStrategies(List.of("inproc-swap")); // external servers: we cannot push our weights into them
        }
        try {
            c = c.withEndpoint(endpoint);
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage());
        }
        if (c.numServers() < 1) throw new Cli.UserError("--num-servers must be at least 1");
        RunFolder results = RunFolder.create(out, "compare");
        Compare cmp = new Compare(c, results, System.err);
        System.err.println("compare: " + (c.quick() ? "quick" : "default") + " run, model " + (c.model() != null ? c.model() : c.shape())
                + " -> " + results.dir());
        Interrupts.onInterrupt("compare", () -> cmp.stop("interrupted (Ctrl-C)"));
        long t0 = System.nanoTime();
        Compare.Outcome o = cmp.run();
        results.writeRun(cmp.describe(), o.incomplete(), o.reason());
        Path md = Report.write(results.dir());
        System.out.println(SummaryText.render(o.summaries().stream().filter(s -> !s.workload().equals("freshness")).toList()));
        System.out.printf("compare took %.0f s%s%n", (System.nanoTime() - t0) / 1e9, o.incomplete() ? " (INCOMPLETE: " + o.reason() + ")" : "");
        System.out.println("report: " + md);
        System.out.println("results: " + results.dir());
        return o.incomplete() ? (o.reason().startsWith("interrupted") ? Interrupts.EXIT_CODE : 1) : 0;
    }
}
