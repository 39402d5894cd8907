package dev.rolloutlab.compare;

import dev.rolloutlab.bench.LengthDist;
import dev.rolloutlab.bench.LoadGenerator;
import dev.rolloutlab.bench.MetricsScraper;
import dev.rolloutlab.bench.Workload;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.DefaultModels;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.openai.ServerProbe;
import dev.rolloutlab.process.MachineLoad;
import dev.rolloutlab.results.RunFolder;
import dev.rolloutlab.results.Summary;
import dev.rolloutlab.results.SweepPoint;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.util.SpanLog;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToIntFunction;
import okhttp3.OkHttpClient;

/**
 * Runs one workload grid through every topology — {@code inproc} (one engine in this JVM), {@code inprocN} (N engines
 * in this JVM), {@code http1} (one port of a serve process), {@code httpN} (its N ports, client-side fanout),
 * {@code lb} (the N ports behind our balancer) - with keep-alive and with {@code Connection: close}, in rounds: within
 * a round every cell runs on every leg back to back, in an order that rotates each round, so drift hits all legs alike.
 * Then the weight-freshness experiment; everything goes into a results folder.
 */
public final class Compare {
    /** What a run produced: its summary rows, and whether (and why) it stopped early. */
    public record Outcome(
            List<Summary> summaries,
            List<FreshnessExperiment.StrategySummary> freshness,
            boolean incomplete,
            String reason) {}

    private final CompareConfig c;
    private final RunFolder results;
    private final PrintStream log;
    private final GridTally tally = new GridTally();
    /** The generators running now: one, or during the warm-up one per process. */
    private final Set<LoadGenerator> running = ConcurrentHashMap.newKeySet();

    private volatile String stopReason;
    private final OkHttpClient http = OpenAiClient.http(128, Duration.ofSeconds(300));
    private Topologies topologies;
    private int roundsRun;
    private final RunPhases phases = new RunPhases();
    private Pooling.Widest widest;

    private final CellSizing sizing;
    private final WarmUp warmUp;
    private RemoteFleet fleet;
    /** The weight-freshness experiment after the grid, its servers started with the grid's; null: no strategies. */
    private FreshnessExperiment freshness;

    private List<Pooling.WarmingRound> warming = List.of();

    private CompareConfig control;
    /** The zero-compute control this run drives between its cells, once started. */
    private volatile ZeroComputeControl zeroCompute;
    /** Whether this is a control's own run, driven by another. */
    private final boolean isControl;

    /** The endpoint every leg uses, and what the external targets serve; settled once per run. */
    private CompletionRequest.Endpoint endpoint = CompletionRequest.Endpoint.COMPLETIONS;

    private String externalModel;
    private ToIntFunction<String> tokenizer;
    /** Topology/connection pairs whose legs stopped early, and the distinct reasons already printed. */
    private final Set<String> failedLegs = new TreeSet<>(), saidWhy = new LinkedHashSet<>();

    /** The client's spans under {@code --timeline}: every measured request, the in-process engines' steps. */
    private SpanLog spans = SpanLog.OFF;

    /** The run's start: the time origin of metrics.csv. */
    private final long originNs = System.nanoTime();

    /** The servers' /metrics during the rounds, cell by cell; nothing outside the rounds. */
    private CellScrapes scrapes = CellScrapes.NONE;

    private Progress progress;
    private String served;
    /** A fixed computation timed before and after the run: if it moved, the machine changed under the run. */
    private double calibrationBefore = Double.NaN, calibrationAfter = Double.NaN;

    public Compare(CompareConfig config, RunFolder results, PrintStream log) {
        this(config, results, log, false);
    }

    private Compare(CompareConfig config, RunFolder results, PrintStream log, boolean isControl) {
        this.c = config;
        this.results = results;
        this.log = log;
        this.isControl = isControl;
        this.sizing = new CellSizing(config);
        this.warmUp = new WarmUp(
                config,
                log,
                who(),
                (leg, w) ->
                        run(generator(leg, w, config.concurrency(), w.requests().size())),
                this::workload,
                sizing,
                () -> stopReason != null);
    }

    /** The servers of {@code --fleet}: the freshness experiment's HTTP strategies then run on them, at scale. */
    public Compare onFleet(RemoteFleet f) {
        fleet = f;
        return this;
    }

    /**
     * With the zero-compute control: {@code control} (built with {@link CompareConfig.Builder#control}) on serve's
     * zero-compute twins, this run's balancer switched to them and clock engines in this JVM, its cells interleaved
     * with this run's, so HTTP's cost alone is measured in the same processes and moments as the real engine's tax;
     * written to the run's {@code control/}.
     */
    public Compare withControl(CompareConfig control) {
        this.control = control;
        return this;
    }

    /** Where this run's time went; the caller moves it on to the report and finishes it. */
    public RunPhases phases() {
        return phases;
    }

    /** Stops the current leg and everything started; {@link #run()} then writes what it has, marked incomplete. */
    public void stop(String reason) {
        stopReason = reason;
        running.forEach(g -> g.stop(reason));
        ZeroComputeControl z = zeroCompute;
        if (z != null) z.stop(reason);
    }

    public Outcome run() {
        Path model = c.model() != null ? c.model() : DefaultModels.ensure(c.shape());
        List<FreshnessExperiment.StrategySummary> fresh = List.of();
        List<Summary> summaries = List.of();
        try {
            Checkpoint cp = Checkpoint.load(model);
            String name = model.getFileName().toString();
            settleEndpoint(cp);
            calibrationBefore = MachineLoad.calibrationMs();
            log.println("compare: starting the topologies " + c.topologies());
            // the freshness experiment's own servers start and warm beside the grid's processes, not after the grid
            if (!c.strategies().isEmpty())
                freshness = new FreshnessExperiment(c, model, results.dir(), log, http, fleet).startServers();
            if (c.timeline())
                spans = SpanLog.open(results.dir().resolve("trace").resolve("client.jsonl"), "client");
            topologies = new Topologies(
                    c, model, cp, results.dir().resolve("logs"), http, tokenizer, control != null, spans);
            served = c.externalTargets().isEmpty() ? name : externalModel;
            if (freshness != null) freshness.awaitServers(); // no warm-up or cell meets their start
            // the control warms first: its thousands of requests a second through the same serve, lb and load
            // generator also bring their HTTP path to its steady state before the real legs warm their engines
            if (control != null && stopReason == null) {
                phases.enter(RunPhases.Phase.CONTROL_WARM_UP);
                startControl(model, cp);
            }
            List<Topologies.Leg> legs = topologies.legs();
            ZeroComputeControl z = zeroCompute;
            progress = new Progress(
                    log,
                    (Progress.perRound(c, legs) + controlCellsPerRound()) * c.rounds(),
                    c.strategies().size());
            if (z != null) z.share(progress);
            phases.enter(RunPhases.Phase.WARM_UP);
            // the balancer has no engine: the control's warm-up through it ran all the code the real legs run there
            warmUp.legs(legs, z != null && z.warmed(WarmUp.BALANCER) ? Set.of(WarmUp.BALANCER) : Set.of());
            phases.enter(RunPhases.Phase.CELLS);
            progress.measuring();
            roundsScraped(legs);
            topologies.close(); // the topology servers are done; free the cores for the freshness servers
            if (stopReason == null && freshness != null) {
                phases.enter(RunPhases.Phase.FRESHNESS);
                FreshnessExperiment fx = freshness;
                try {
                    fx.run(() -> stopReason != null, progress::strategyDone);
                } finally { // a strategy that failed keeps the ones measured before it
                    fresh = fx.summaries();
                    results.writeFreshness(fx.samples(), FreshnessExperiment.StrategySummary.class, fresh);
                    results.writeTable("logprob_gap.csv", FreshnessExperiment.LogprobGap.class, fx.gaps());
                }
            }
        } catch (RuntimeException e) {
            if (stopReason == null) stopReason = "failed: " + e.getMessage();
            log.println("compare: " + stopReason);
        } finally {
            phases.enter(RunPhases.Phase.RESULTS);
            if (freshness != null) freshness.close();
            if (topologies != null) topologies.close();
            if (!Double.isNaN(calibrationBefore)) calibrationAfter = MachineLoad.calibrationMs();
            spans.close();
            summaries = writeResults();
            ZeroComputeControl z = zeroCompute;
            if (z != null) z.finish(calibrationAfter, stopReason);
        }
        return new Outcome(List.copyOf(summaries), fresh, stopReason != null, stopReason);
    }

    /** Pools the rounds and writes requests, summaries, the sweep and cpu.csv; what a stopped run has, too. */
    private List<Summary> writeResults() {
        if (stopReason == null && !failedLegs.isEmpty()) {
            stopReason = failedLegs.size() + " leg(s) stopped early (" + String.join(", ", failedLegs) + "): "
                    + saidWhy.iterator().next();
        }
        GridTally.Written written = tally.write(results, c.concurrency());
        warming = written.warming();
        for (Pooling.WarmingRound w : warming)
            log.printf(
                    Locale.ROOT,
                    "compare: %s%s %s %s: round 1 left out, still warming (%.1f ms against %.1f ms at most later)%n",
                    who(),
                    w.topology(),
                    w.connection(),
                    w.workload(),
                    w.meanE2elMs(),
                    w.laterMaxMs());
        return written.summaries();
    }

    /** How this run's lines start: the control's say so. */
    private String who() {
        return isControl ? "control: " : "";
    }

    /**
     * The control's legs in this run's processes, warmed until steady; its cells then run interleaved with this run's
     * (each cell on every real leg, then on every control leg), so a slow spell of the machine meets both alike. A
     * control that cannot start says so and leaves the run as it is.
     */
    private void startControl(Path model, Checkpoint cp) {
        RunFolder folder = RunFolder.create(results.dir().resolve("control"), "control");
        log.println("compare: the zero-compute control (the same grid on clock engines, in the same serve and lb "
                + "JVMs, its cells interleaved with the real ones) -> " + folder.dir());
        ZeroComputeControl z = new ZeroComputeControl(
                new Compare(control, folder, log, true),
                topologies,
                GridCell.of(c).size());
        zeroCompute = z;
        if (!z.start(this, model, cp, log)) zeroCompute = null;
    }

    /** The control's cells measured per real round. */
    private int controlCellsPerRound() {
        ZeroComputeControl z = zeroCompute;
        return z == null ? 0 : z.cellsPerRound();
    }

    // ---- as a control, driven by the real run through its ZeroComputeControl ----

    /** Its legs in the processes of {@code real} (serve's twins, its balancer), on its endpoint and model name. */
    void startAsControl(Compare real, Path model, Checkpoint cp) {
        endpoint = real.endpoint;
        served = real.served;
        calibrationBefore = real.calibrationBefore;
        topologies = real.topologies.twins(c, model, cp, real.http, real.tokenizer);
        if (real.stopReason != null) stop(real.stopReason);
    }

    void warmUpLegs() {
        warmUp.legs(topologies.legs(), Set.of());
    }

    /** Whether {@code process} warmed until steady under this run's legs. */
    boolean warmed(String process) {
        return warmUp.steady(process);
    }

    void closeTopologies() {
        if (topologies != null) topologies.close();
    }

    List<GridCell> cells() {
        return GridCell.of(c);
    }

    /** Cells a round measures on this run's legs. */
    int cellsPerRound() {
        return Progress.perRound(c, topologies.legs());
    }

    void share(Progress p) {
        progress = p;
    }

    /**
     * A slice of {@code cell} (its share of {@code slices}) on each leg, in the order of {@code round}. False when the
     * run stopped.
     */
    boolean slice(int round, GridCell cell, int slices) {
        List<Topologies.Leg> order = new ArrayList<>(topologies.legs());
        Collections.rotate(order, -(round - 1));
        int n = sizing.slice(cell, slices);
        for (Topologies.Leg leg : order) {
            if (stopReason != null) return false;
            if (!failedLegs.contains(leg.key())) measure(round, leg, workload(cell, n), n);
        }
        return true;
    }

    /** Counts {@code round} as run: every slice of it was measured. */
    void roundRun(int round) {
        roundsRun = round;
    }

    /** Writes this control's run into {@code control/}, stopped early when the real run was. */
    void finishAsControl(double calibrationAfterMs, String realStopReason) {
        closeTopologies();
        calibrationAfter = calibrationAfterMs;
        if (realStopReason != null && stopReason == null) stopReason = realStopReason;
        writeResults();
        results.writeRun(describe(), stopReason != null, stopReason);
        if (stopReason != null)
            log.println("compare: the control stopped early, its grid is incomplete: " + stopReason);
    }

    /** {@code --rounds} rounds, then (with {@code --until-ci}) more until every headline interval is narrow enough. */
    private void rounds(List<Topologies.Leg> legs) {
        for (int r = 1; stopReason == null; r++) {
            List<Topologies.Leg> order = new ArrayList<>(legs);
            Collections.rotate(order, -(r - 1));
            log.println("compare: round " + r + " (order "
                    + order.stream().map(Topologies.Leg::key).toList() + ")");
            round(r, order);
            if (stopReason != null) return;
            roundsRun = r;
            if (r < c.rounds()) continue;
            widest = Pooling.widest(tally.pooled().rows());
            if (c.untilCiPct() <= 0) return;
            if (widest.pct() <= c.untilCiPct()) {
                log.println("compare: every headline interval is within ±" + c.untilCiPct() + " % after " + r
                        + " rounds (widest " + Pooling.describe(widest) + ")");
                return;
            }
            if (r >= c.maxRounds()) {
                log.println("compare: --until-ci " + c.untilCiPct() + " % not reached after " + r
                        + " rounds (the --max-rounds cap); widest " + Pooling.describe(widest));
                return;
            }
            log.println("compare: widest interval " + Pooling.describe(widest) + " > ±" + c.untilCiPct()
                    + " %: another round");
            progress.addPlanned(Progress.perRound(c, legs) + controlCellsPerRound());
        }
    }

    private void round(int r, List<Topologies.Leg> order) {
        int slot = 0;
        for (GridCell cell : GridCell.of(c)) {
            int n = sizing.requests(cell);
            for (Topologies.Leg leg : order) {
                if (stopReason != null) return;
                // a leg that failed fast fails the same way in every cell: it was recorded once and said why once
                if (failedLegs.contains(leg.key())) continue;
                measure(r, leg, workload(cell, n), n);
            }
            ZeroComputeControl z = zeroCompute;
            if (z != null && stopReason == null) z.slot(r, slot);
            slot++;
        }
        GridCell sweepCell = new GridCell(
                c.promptLens().get(0), c.outputLens().get(c.outputLens().size() - 1));
        for (int k : c.sweepConcurrency()) {
            for (Topologies.Leg leg : order) {
                if (stopReason != null) return;
                if (leg.sweeps() && !failedLegs.contains(leg.key()))
                    sweepPoint(r, leg, k, workload(sweepCell, Math.max(c.sweepRequests(), 2 * k)));
            }
        }
    }

    /**
     * For external targets: which model they serve, which endpoint they implement (under {@code auto}), and how to
     * count tokens when they send no usage (the model's tokenizer, only when {@code --model} names it).
     */
    private void settleEndpoint(Checkpoint cp) {
        if (c.model() != null) tokenizer = text -> cp.tokenizer().encode(text).length;
        if (c.externalTargets().isEmpty()) {
            if (c.endpoint() != null) endpoint = c.endpoint();
            return;
        }
        OpenAiClient first = new OpenAiClient(http, c.externalTargets().get(0), null, true);
        try {
            externalModel = ServerProbe.servedModel(first);
        } catch (IllegalArgumentException e) {
            log.println("compare: " + e.getMessage() + "; requests go without a model name");
        }
        endpoint = c.endpoint() != null ? c.endpoint() : ServerProbe.detectEndpoint(first, externalModel);
        log.println("compare: external targets serve " + (externalModel != null ? externalModel : "(unknown model)")
                + ", endpoint " + endpoint.path + (c.endpoint() == null ? " (auto)" : ""));
    }

    /**
     * The rounds, with every server's /metrics sampled once a second (four times with --quick, whose cells are
     * shorter).
     */
    private void roundsScraped(List<Topologies.Leg> legs) {
        List<OpenAiClient> servers = topologies.servers(http);
        if (c.scrapeMetrics() && !servers.isEmpty())
            scrapes = CellScrapes.start(
                    servers, c.quick() ? Duration.ofMillis(250) : MetricsScraper.EVERY_SECOND, originNs, log);
        try {
            rounds(legs);
        } finally {
            tally.serverMetrics(scrapes.stop());
            scrapes = CellScrapes.NONE;
        }
    }

    private Workload workload(GridCell cell, int n) {
        Workload w = Workload.synthetic(
                n,
                LengthDist.fixed(cell.in()),
                new Workload.Sampling(endpoint, served, cell.out(), null, 1.0, 17L, 1, true, true),
                1000,
                cell.in() * 31L + cell.out());
        return new Workload(cell.name(), w.requests());
    }

    /** One measured cell on one leg, after its lead-in. False when the leg failed fast or the run stopped. */
    private boolean measure(int round, Topologies.Leg leg, Workload w, int n) {
        warmUp.leadIn(leg);
        LoadGenerator g = generator(leg, w, c.concurrency(), n).traced(spans);
        boolean http = !leg.topology().inProcess();
        CpuMeter meter = new CpuMeter(
                http && c.externalTargets().isEmpty() ? topologies.servePid() : -1,
                leg.topology() == Topology.LB ? topologies.lbPid() : -1,
                topologies.localJvms());
        LoadGenerator.Run run = run(g);
        if (run == null) return false;
        // read before the cell's closing scrape, whose work is not the cell's
        CpuMeter.Point used = meter.stop(
                leg.topology(), leg.connection(), w.name(), round, run.records().size());
        if (http) scrapes.cellEnded(g.originNs(), leg, w.name(), round);
        if (run.failedFast()) {
            failedLegs.add(leg.key());
            if (saidWhy.add(run.reason()))
                log.println("compare: " + leg.topology() + " " + leg.connection() + ": " + run.reason());
        }
        progress.cell(who(), round, leg, tally.cell(round, leg, w.name(), run, used));
        return !run.failedFast();
    }

    /** Throughput at concurrency {@code k} on the shortest prompt and longest output. */
    private void sweepPoint(int round, Topologies.Leg leg, int k, Workload w) {
        LoadGenerator.Run run = run(generator(leg, w, k, w.requests().size()));
        if (run == null) return;
        Summary s = run.summary();
        tally.sweep(new SweepPoint(
                leg.topology(),
                k,
                round,
                s.throughput().requests().estimate(),
                s.throughput().outputTokens().estimate(),
                Double.NaN,
                Double.NaN,
                s.e2el().mean().estimate(),
                s.e2el().p99()));
        progress.sweepPoint(round, leg, k, s);
    }

    /** A closed loop of {@code n} requests of {@code w} on the leg, least outstanding first. */
    private static LoadGenerator generator(Topologies.Leg leg, Workload w, int concurrency, int n) {
        return new LoadGenerator(
                leg.targets(),
                w,
                LoadGenerator.Options.closed(leg.topology(), leg.connection(), concurrency, n)
                        .withRouting(LoadGenerator.Routing.LEAST_OUTSTANDING));
    }

    /** Runs {@code g} where {@link #stop} reaches it; null when interrupted (the run stops). */
    private LoadGenerator.Run run(LoadGenerator g) {
        running.add(g);
        if (stopReason != null) g.stop(stopReason);
        try {
            return g.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop("interrupted");
            return null;
        } finally {
            running.remove(g);
        }
    }

    /** run.json's config: the run's settings and what it settled while running. */
    public Map<String, Object> describe() {
        Map<String, Object> m = c.describe();
        m.put("requests_per_cell", sizing.byName());
        m.put("rounds_run", roundsRun);
        m.put("steady_warmup_req_per_s", warmUp.steadyRates());
        if (widest != null) m.put("widest_interval", Pooling.describe(widest));
        m.put("baselines", Topology.baselines());
        m.put("first_rounds_left_out", warming);
        if (topologies != null) {
            m.put("compute", topologies.compute());
            m.put("processes", topologies.processes());
        }
        if (fleet != null)
            m.put(
                    "fleet",
                    Map.of(
                            "spec",
                            c.fleet(),
                            "timing_model",
                            c.timing(),
                            "assumptions",
                            fleet.assumptions(),
                            "link_check",
                            fleet.linkCheck()));
        m.put("endpoint", endpoint.wire());
        m.put("calibration_ms_before", calibrationBefore);
        m.put("calibration_ms_after", calibrationAfter);
        if (!isControl) m.put("phase_seconds", phases.seconds()); // the control runs inside the real run's phases
        return m;
    }
}
