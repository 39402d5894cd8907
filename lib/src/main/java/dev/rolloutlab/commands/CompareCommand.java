package dev.rolloutlab.commands;

import dev.rolloutlab.compare.Compare;
import dev.rolloutlab.compare.CompareConfig;
import dev.rolloutlab.compare.MeasuringJvm;
import dev.rolloutlab.compare.PrefixExperiment;
import dev.rolloutlab.compare.PrefixWorkload;
import dev.rolloutlab.compare.RunPhases;
import dev.rolloutlab.compare.ZeroComputeControl;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.report.PrefixReport;
import dev.rolloutlab.report.Report;
import dev.rolloutlab.results.RunFolder;
import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.results.SummaryText;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.sim.Fleet;
import dev.rolloutlab.sim.Profile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code compare}: the main job — HTTP fanout vs in-process on one engine and workload, then the report. */
@Command(
        name = "compare",
        mixinStandardHelpOptions = true,
        description = "Run one workload through inproc, inprocN, http1, httpN and lb (keep-alive and close) in "
                + "interleaved rounds, "
                + "then the weight-freshness experiment; write results/<run-id>/ with REPORT.md and "
                + "plots. No flags = the embedded "
                + "default (about 4½-6 minutes on 2 cores, compile included: 270-345 s on a slow phase of a cloud "
                + "VM, the first run with empty caches 299 and 345 s; the last line says where the time went).")
public final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--quick", description = "Tiny model, small grid, 2 rounds: about a minute and a half.")
    boolean quick;

    @Option(
            names = "--full",
            description = "The default plus in=512 and out=128, a sweep at concurrency 1,4,16,32, 40 requests per "
                    + "cell and round (default 16) and 5 rounds.")
    boolean full;

    @Option(
            names = "--rounds",
            description = "Rounds every cell runs (legs interleaved, order rotating each round). Default: 3 (2 with "
                    + "--quick, 5 with --full); " + PrefixWorkload.DEFAULT_ROUNDS + " for --workload groups|sessions|"
                    + "trace, whose verdicts need them on a noisy VM.")
    Integer rounds;

    @Option(
            names = "--prompt-lens",
            split = ",",
            paramLabel = "N",
            description = "Prompt lengths of the grid, in tokens. Default: 8,128 (with --full 8,128,512).")
    List<Integer> promptLens;

    @Option(
            names = "--output-lens",
            split = ",",
            paramLabel = "N",
            description = "Output lengths (max_tokens) of the grid. Default: 1,32 (--quick 1,16; --full 1,32,128).")
    List<Integer> outputLens;

    @Option(
            names = {"--cell-sec", "--cell-seconds"},
            description = "Time each leg spends on a cell per round (from the warm-up's rate; cheap cells get more "
                    + "requests, up to --max-requests, never fewer than the grid's minimum). 0: the minimum "
                    + "everywhere. Default: 1 (0.25 with --quick), which pins a cell's tax to about ±1 ms; 6 pinned "
                    + "every single-token cell to within 0.5 ms from run to run, the cells taking about three "
                    + "times as long.")
    Double cellSeconds;

    @Option(
            names = "--max-requests",
            paramLabel = "N",
            description = "The most requests a leg sends on a cell per round: on a fast host the cheapest cells would "
                    + "otherwise stop short of --cell-sec. Default: 256 a second of --cell-sec, at least 256.")
    Integer maxRequests;

    @Option(
            names = "--warmup-max-sec",
            description = "The first leg on each process (this JVM, serve, the LB) keeps warming until its throughput "
                    + "stops rising, the processes at once until every one has, for at most this long; 0: a fixed "
                    + "warm-up. Default: 60 (0 with --quick and --fleet).")
    Double warmupMaxSec;

    @Option(
            names = "--until-ci",
            paramLabel = "PCT",
            description = "After --rounds, add rounds until every headline 95 %% interval "
                    + "(mean e2el, output throughput) is within ±PCT %% of its estimate, or --max-rounds is reached.")
    Double untilCi;

    @Option(names = "--max-rounds", defaultValue = "10", description = "Cap for --until-ci. Default: ${DEFAULT-VALUE}")
    int maxRounds;

    @Option(names = "--topologies", split = ",", description = "Subset of ${COMPLETION-CANDIDATES}. Default: all.")
    List<Topology> topologies;

    @Option(
            names = "--strategies",
            split = ",",
            description = "Weight-update strategies: inproc-swap, http-push-all, http-push-atomic "
                    + "(stage everywhere, then commit), http-delta, http-delta-atomic (sparse "
                    + "deltas), http-push-rolling, http-reload, http-restart; "
                    + "on a --fleet: inproc-swap, http-push-all, http-push-rolling, http-push-tree, "
                    + "http-storage-pull; or none. Default: all that run.")
    List<String> strategies;

    @Option(
            names = "--changed-fraction",
            description = "Fraction of weight elements one simulated training step changes; deltas pay "
                    + "when it is small. Default: 0.045 (4.5 %%, as measured in RL fine-tuning runs).")
    Double changedFraction;

    @Option(
            names = "--num-servers",
            description =
                    "Engines for inprocN, and ports (one engine each) for httpN and lb. Default: 4 (2 with --quick).")
    Integer numServers;

    @Mixin
    ModelChoice model;

    @Option(names = "--concurrency", description = "Requests in flight per leg. Default: 4.")
    Integer concurrency;

    @Option(
            names = "--targets",
            split = ",",
            description = "Run the HTTP legs against these external OpenAI servers instead of starting our own.")
    List<String> targets;

    @Option(
            names = "--endpoint",
            defaultValue = "auto",
            description = "completions, chat or auto (completions for our servers; "
                    + "for --targets, probe once and use chat when completions is missing). Default: ${DEFAULT-VALUE}")
    CompletionRequest.Endpoint endpoint;

    @Option(
            names = "--fleet",
            description = "sim:HOSTSxPORTS: run the HTTP legs and the freshness experiment on simulated hosts (network "
                    + "namespaces, shaped links, serve --engine sim; needs root), the in-process legs "
                    + "on the same timing model.")
    String fleet;

    @Mixin
    WeightScale weights;

    @Option(
            names = "--freshness-steps",
            description = "Training steps per freshness strategy; the lag is read from the second on (the first "
                    + "batch is sampled before any update can be in flight). Default: 3 (5 with --full).")
    Integer freshnessSteps;

    @Option(
            names = "--profile",
            defaultValue = "rollout-lab-small-2core",
            description = "Timing profile of --fleet. Default: ${DEFAULT-VALUE}")
    String profile;

    @Option(
            names = "--link",
            defaultValue = "cross-zone",
            description = "Link profile of --fleet (see sim sweep --help). Default: ${DEFAULT-VALUE}")
    String link;

    @Option(
            names = "--control",
            negatable = true,
            description = "Run each cell also on clock engines whose steps take no time, in the same serve and lb "
                    + "JVMs (serve's --zero-compute-twins, and the same clock in-process): the pure HTTP tax, "
                    + "written to <out>/control and shown in REPORT.md as the zero-compute control. Default: on, off "
                    + "with --quick; own servers only.")
    Boolean control;

    @Option(
            names = "--workload",
            defaultValue = "grid",
            description = "grid: the main job (prompt and output lengths, every topology, freshness). groups: GRPO "
                    + "groups of 8 samples of one prompt (up to 512 tokens, within half the model's context) sent as "
                    + "separate requests; sessions: 4 multi-turn sessions of 8 turns; trace: the synthetic Mooncake "
                    + "trace at its own times; all with prefix caches on, through in-process engines, client fanout "
                    + "and the balancer under each policy. Default: ${DEFAULT-VALUE}")
    String workload;

    @Option(
            names = "--stream",
            negatable = true,
            description = "With --workload groups|sessions|trace: stream each answer token by token (the client then"
                    + " sees its first token). Default: off, whole answers, as an RL trainer asks for rollouts; TTFT is"
                    + " then the e2el less the engine's decode. The grid always streams.")
    Boolean stream;

    @Option(
            names = "--scrape-metrics",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "Sample every server's /metrics once a second during each HTTP cell into metrics.csv, "
                    + "plotted and summarised per leg in REPORT.md (default on; targets without /metrics are "
                    + "skipped).")
    boolean scrapeMetrics;

    @Option(
            names = "--timeline",
            description = "One timeline of the run: the client, serve (every request's parse, queue, prefill, decode "
                    + "and serialise, each engine step, each weight change) and lb keep their spans under "
                    + "<out>/trace/, joined by W3C traceparent; report writes trace.json, which Perfetto's UI opens. "
                    + "Off by default; its cost is in docs/benchmarks.md.")
    boolean timeline;

    @Option(names = "--out", description = "Results folder. Default: results/<timestamp>-compare.")
    Path out;

    /** Set on the child JVM that measures; the JVM a user starts only checks the flags and launches it. */
    @Option(names = MEASURING, hidden = true)
    boolean measuring;

    private static final String MEASURING = "--measuring-jvm";

    @Override
    public Integer call() throws Exception {
        if (!measuring) Cli.warnFormer(spec, "--cell-seconds", "--cell-sec");
        if (quick && full) throw new Cli.UserError("--quick and --full contradict each other; choose one");
        if (stream != null && workload.equals("grid"))
            throw new Cli.UserError("--stream applies to --workload groups|sessions|trace; the grid always streams (it"
                    + " measures TTFT and the time between tokens): drop it");
        if (fleet != null && targets != null)
            throw new Cli.UserError("--fleet and --targets both name the servers; choose one");
        if (fleet != null && !workload.equals("grid"))
            throw new Cli.UserError("--workload " + workload + " runs on compare's own servers: drop --fleet");
        CompareConfig.Builder b;
        CompareConfig c;
        Fleet.Plan plan = null;
        try {
            b = full ? CompareConfig.full() : CompareConfig.defaults(quick);
            if (fleet != null) {
                weights.check();
                plan = Fleet.Plan.of(fleet, profile, link, weights.bytesScale, weights.modelGb);
                b.fleet(plan.spec().hosts(), plan.spec().ports(), plan.inProcessClock());
            }
            if (model.model != null) b.model(model.model);
            if (model.shape != null) b.shape(model.shape);
            if (topologies != null) b.topologies(topologies);
            if (numServers != null) b.numServers(numServers);
            b.scrapeMetrics(scrapeMetrics).timeline(timeline);
            if (concurrency != null) b.concurrency(concurrency);
            if (targets != null) b.externalTargets(targets);
            if (rounds != null) b.rounds(rounds);
            if (cellSeconds != null) b.cellSeconds(cellSeconds);
            if (maxRequests != null) b.maxRequestsPerLeg(maxRequests);
            if (warmupMaxSec != null) b.warmupMaxSec(warmupMaxSec);
            if (promptLens != null) b.promptLens(promptLens);
            if (outputLens != null) b.outputLens(outputLens);
            if (untilCi != null) b.untilCi(untilCi, maxRounds);
            if (changedFraction != null) b.changedFraction(changedFraction);
            if (freshnessSteps != null) b.freshnessSteps(freshnessSteps);
            if (strategies != null) b.strategies(strategies());
            c = b.endpoint(endpoint).build(); // bad flags are refused before any namespace exists
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new Cli.UserError(e.getMessage());
        }
        if (!measuring) return measureInAChildJvm();
        if (!workload.equals("grid")) return runPrefix(c);
        RunFolder results = RunFolder.create(out, "compare"); // first: a fleet's hosts keep their logs in it
        try (Fleet sim = plan == null ? null : plan.start(c, results.dir().resolve("logs"), System.err)) {
            return run(sim == null ? c : b.externalTargets(sim.urls()).build(), b, sim, results);
        }
    }

    /**
     * The run itself goes to a child JVM started by the same code and flags as serve (collector, heap, vector module),
     * so the in-process engines and the load generator live in a process like the one they are compared with, not in
     * whatever JVM the user's launcher chose. This JVM measures nothing; it passes signals on and waits.
     */
    private int measureInAChildJvm() throws InterruptedException {
        List<String> args = new ArrayList<>(spec.commandLine().getParseResult().originalArgs());
        args.add(MEASURING);
        Process child = MeasuringJvm.start(args);
        Interrupts.forwardTo("compare", child);
        return child.waitFor();
    }

    /** {@code --workload groups|sessions|trace}: the shared-prefix experiment on compare's own servers. */
    private int runPrefix(CompareConfig c) throws Exception {
        PrefixWorkload spec;
        try {
            if (!c.externalTargets().isEmpty())
                throw new IllegalArgumentException(
                        "--workload " + workload + " runs on compare's own servers: drop --targets");
            var kind = PrefixWorkload.Kind.parse(workload);
            var config = c.model() != null
                    ? dev.rolloutlab.engine.model.Checkpoint.load(c.model()).config()
                    : dev.rolloutlab.engine.model.ModelShape.parse(
                            c.shape(), dev.rolloutlab.engine.checkpoint.ModelConfig.Architecture.LLAMA);
            int r = rounds != null || quick ? c.rounds() : PrefixWorkload.DEFAULT_ROUNDS;
            spec = PrefixWorkload.defaults(kind, config.maxPositions(), r).withStream(stream != null && stream);
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage());
        }
        RunFolder results = RunFolder.create(out, "compare-" + workload);
        PrefixExperiment x = new PrefixExperiment(c, spec, results, System.err);
        Interrupts.onInterrupt("compare", () -> x.stop("interrupted (Ctrl-C)"));
        System.err.println("compare: " + workload + ", " + spec + " -> " + results.dir());
        long t0 = System.nanoTime();
        x.run();
        results.writeRun(x.describe(), x.stopReason() != null, x.stopReason());
        Path md = PrefixReport.write(results.dir());
        System.out.printf(
                "compare took %.0f s%s%n",
                (System.nanoTime() - t0) / 1e9, x.stopReason() != null ? " (INCOMPLETE: " + x.stopReason() + ")" : "");
        System.out.println("report: " + md);
        System.out.println("results: " + results.dir());
        return x.stopReason() != null ? (x.stopReason().startsWith("interrupted") ? Interrupts.EXIT_CODE : 1) : 0;
    }

    /** {@code --strategies} by name ({@code none}: no freshness experiment), former names with a warning. */
    private List<Strategy> strategies() {
        List<Strategy> out = new ArrayList<>();
        for (String x : strategies.equals(List.of("none")) ? List.<String>of() : strategies) {
            try {
                out.add(Cli.strategy(x));
            } catch (IllegalArgumentException e) {
                throw new Cli.UserError("--strategies: " + e.getMessage() + ", or none");
            }
        }
        return out;
    }

    /**
     * Runs {@code c} with its zero-compute control from {@code builder} (the builder {@code c} came from) into
     * {@code results}.
     */
    private int run(CompareConfig c, CompareConfig.Builder builder, Fleet sim, RunFolder results) throws Exception {
        Compare cmp = new Compare(c, results, System.err).onFleet(sim);
        boolean withControl = control != null ? control : ZeroComputeControl.byDefault(c);
        if (withControl && !ZeroComputeControl.ownServers(c))
            System.err.println("compare: --control runs on compare's own servers only; skipped");
        else if (withControl)
            cmp.withControl(builder.control(Profile.load(Profile.ZERO_COMPUTE).model(), Profile.ZERO_COMPUTE)
                    .build());
        System.err.println("compare: " + c.grid() + " run, " + c.rounds() + " round(s), model "
                + (c.model() != null ? c.model() : c.shape()) + " -> " + results.dir());
        Interrupts.onInterrupt("compare", () -> cmp.stop("interrupted (Ctrl-C)"));
        // the launching JVM gone (killed, its terminal closed): stop as on Ctrl-C rather than run on unseen
        ProcessHandle.current()
                .parent()
                .ifPresent(p -> p.onExit().thenRun(() -> cmp.stop("interrupted (the launching JVM exited)")));
        long t0 = System.nanoTime();
        Report.preload(); // before anything is measured
        Compare.Outcome o = cmp.run();
        cmp.phases().enter(RunPhases.Phase.REPORT); // run.json holds the phases before it
        results.writeRun(cmp.describe(), o.incomplete(), o.reason());
        Path md = Report.write(results.dir());
        cmp.phases().finish();
        System.out.println(SummaryText.render(o.summaries().stream()
                .filter(s -> s.round() == 0 && !s.workload().equals("freshness"))
                .toList()));
        System.out.printf(
                "compare took %.0f s (%s)%s%n",
                (System.nanoTime() - t0) / 1e9,
                cmp.phases().describe(),
                o.incomplete() ? " (INCOMPLETE: " + o.reason() + ")" : "");
        System.out.println("report: " + md);
        System.out.println("results: " + results.dir());
        return o.incomplete() ? (o.reason().startsWith("interrupted") ? Interrupts.EXIT_CODE : 1) : 0;
    }
}
