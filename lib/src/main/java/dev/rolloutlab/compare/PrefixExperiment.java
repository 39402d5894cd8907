package dev.rolloutlab.compare;

import dev.rolloutlab.bench.LengthDist;
import dev.rolloutlab.bench.LoadGenerator;
import dev.rolloutlab.bench.MooncakeTrace;
import dev.rolloutlab.bench.SteadyState;
import dev.rolloutlab.bench.Target;
import dev.rolloutlab.bench.Workload;
import dev.rolloutlab.engine.EngineOptions;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.StepTotals;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.DefaultModels;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.MachineLoad;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.PrefixUse;
import dev.rolloutlab.results.RequestRecord;
import dev.rolloutlab.results.RunFolder;
import dev.rolloutlab.results.Topology;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import okhttp3.OkHttpClient;

/**
 * GRPO groups or multi-turn sessions through every way of sending them, with prefix caches on: in-process (one engine,
 * and N engines with a group or session kept on one), client-side fanout over the serve ports (round robin, or by
 * session), and the balancer with each routing policy. What decides is how much prompt each sample still has to compute
 * once caches and routing have done their part, and what that does to throughput and latency. Every leg of every round
 * gets prompts no engine has seen, so no leg profits from another's cache.
 *
 * <p>Every leg shares the same cores, so its wall-clock throughput moves with whatever else the machine does (a stolen
 * stretch halved every leg run in it). So each counted round runs the reference, in-process with N engines, before and
 * after every other leg (A B A C A …), and the report holds each leg to the reference measured around it; every other
 * round runs the legs in reverse order, so no leg always comes first after a pause. Each leg also reads the CPU time of
 * every process of the experiment (this JVM, serve, the balancers), which the kernel keeps without the time the
 * hypervisor stole, to say where the compute went and what an output token cost.
 */
public final class PrefixExperiment {
    /** One leg: a topology, how requests are routed on it, where they go, and its balancer (null: none). */
    record Leg(
            String name,
            Topology topology,
            String routing,
            List<Target> targets,
            LoadGenerator.Routing client,
            OpenAiClient balancer) {
        Leg(String name, Topology topology, String routing, List<Target> targets, LoadGenerator.Routing client) {
            this(name, topology, routing, targets, client, null);
        }
    }

    /** Warm-up runs' seeds start here, apart from every counted run's. */
    private static final long WARM_SEED = 1_000_000;

    static final int WARM_MAX_SECONDS = 60;
    private static final int CORES = Runtime.getRuntime().availableProcessors();

    private final CompareConfig c;
    private final PrefixWorkload spec;
    private final RunFolder results;
    private final PrintStream log;
    private final List<AutoCloseable> running = new ArrayList<>();
    private long servePid = -1;
    private final List<Long> lbPids = new ArrayList<>();
    private List<Leg> legs = List.of();
    private EngineSteps engineSteps;

    private volatile LoadGenerator current;
    private volatile String stopReason;

    public PrefixExperiment(CompareConfig c, PrefixWorkload spec, RunFolder results, PrintStream log) {
        this.c = c;
        this.spec = spec;
        this.results = results;
        this.log = log;
    }

    /** Stops scheduling; the rounds measured so far are kept and written. */
    public void stop(String reason) {
        stopReason = reason;
        LoadGenerator g = current;
        if (g != null) g.stop(reason);
    }

    /** Runs every leg for every round; returns the figures, written to {@code prefix.csv} beside the rounds. */
    public List<PrefixFigure> run() throws Exception {
        Path model = c.model() != null ? c.model() : DefaultModels.ensure(c.shape());
        Checkpoint cp = Checkpoint.load(model);
        if (spec.longestPrompt() + spec.outputLen() > cp.config().maxPositions())
            throw new IllegalArgumentException("a session grows to " + (spec.longestPrompt() + spec.outputLen())
                    + " tokens, beyond the model's " + cp.config().maxPositions() + "; use fewer turns");
        List<PrefixRun> rounds = new ArrayList<>();
        try {
            legs = start(model, cp);
            for (int i = 0; i < legs.size() && stopReason == null; i++) warm(legs.get(i), i);
            for (int r = 1; r <= spec.rounds() && stopReason == null; r++) {
                List<Leg> schedule = schedule(legs, r);
                for (int i = 0; i < schedule.size() && stopReason == null; i++) {
                    Leg leg = schedule.get(i);
                    PrefixRun x = measureUndisturbed(leg, r, i, rounds);
                    log.printf(
                            Locale.ROOT,
                            "prefix: round %d/%d %3d/%d %-18s %6.0f tok/s (%5.0f per CPU-s), TTFT %7.1f ms, %5.0f"
                                    + " prompt tokens computed per sample, cache hit %3.0f %%%n",
                            r,
                            spec.rounds(),
                            i + 1,
                            schedule.size(),
                            leg.name(),
                            x.outputTokPerSec(),
                            x.outputTokPerCpuSec(),
                            x.meanTtftMs(),
                            x.computedPrefillPerSample(),
                            100 * x.cacheHitRate());
                }
            }
        } finally {
            for (int i = running.size() - 1; i >= 0; i--) {
                try {
                    running.get(i).close();
                } catch (Exception e) {
                    log.println("prefix: stopping " + running.get(i) + ": " + e.getMessage());
                }
            }
        }
        List<PrefixFigure> figures =
                PrefixFigure.of(legs.stream().map(Leg::name).toList(), rounds);
        results.writeTable("prefix_rounds.csv", PrefixRun.class, rounds);
        results.writeTable("prefix.csv", PrefixFigure.class, figures);
        return figures;
    }

    /**
     * Measures {@code leg} at {@code slot} of round {@code r} and adds the run to {@code into}; a run the hypervisor
     * disturbed is added uncounted and measured again, up to {@link PrefixRun#REMEASURE} times, each on new prompts.
     */
    private PrefixRun measureUndisturbed(Leg leg, int r, int slot, List<PrefixRun> into) throws Exception {
        PrefixRun x = measure(leg, r, slot, 1000L * r + slot, spec.units());
        for (int again = 1; again <= PrefixRun.REMEASURE && x.disturbed(CORES) && stopReason == null; again++) {
            log.printf(
                    Locale.ROOT,
                    "prefix: round %d %-18s disturbed: the hypervisor stole %.0f ms of CPU in %.0f ms; measuring it"
                            + " again (kept in prefix_rounds.csv, not counted)%n",
                    r,
                    leg.name(),
                    x.stolenMs(),
                    x.wallMs());
            into.add(x.uncounted());
            x = measure(leg, r, slot, 1000L * r + slot + 100L * again, spec.units());
        }
        into.add(x);
        return x;
    }

    /**
     * Warms {@code leg} before any round counts: one group or session at a time, each on prompts no engine has seen,
     * until its output throughput stops rising by {@link SteadyState}'s trend rule (a window of a few seconds varies by
     * a quarter on a cloud VM) or {@value #WARM_MAX_SECONDS} s have passed. One fixed pass was not enough: each
     * balancer is a JVM of its own, and the first counted run of one read 32 % under the reference around it and 0 to
     * 10 % over in the four rounds after. The trace replays at its own times, so it warms with one whole pass.
     */
    private void warm(Leg leg, int index) throws Exception {
        long t0 = System.nanoTime();
        SteadyState s = SteadyState.of(List.of());
        for (int w = 0; stopReason == null; w++) {
            PrefixRun x =
                    measure(leg, 0, w, WARM_SEED + 1000L * index + w, spec.kind() == PrefixWorkload.Kind.TRACE ? 0 : 1);
            boolean steady = s.add(x.outputTokPerSec());
            if (spec.kind() == PrefixWorkload.Kind.TRACE
                    || steady
                    || (System.nanoTime() - t0) / 1e9 >= WARM_MAX_SECONDS) break;
        }
        log.printf(
                Locale.ROOT,
                "prefix: warmed %-18s %s after %d runs in %.0f s (output tok/s: %s)%n",
                leg.name(),
                s.steady() ? "steady" : "not steady",
                s.rates().size(),
                (System.nanoTime() - t0) / 1e9,
                s.rates().stream()
                        .map(r -> String.format(Locale.ROOT, "%.0f", r))
                        .toList());
    }

    /**
     * Counted round {@code r}'s legs in order: the reference (in-process with N engines) first and again after every
     * other leg, forwards in odd rounds and backwards in even ones.
     */
    static List<Leg> schedule(List<Leg> legs, int r) {
        Leg reference = legs.stream()
                .filter(l -> l.topology() == Topology.INPROC_N)
                .findFirst()
                .orElseThrow();
        List<Leg> others = new ArrayList<>(legs);
        others.remove(reference);
        if (r % 2 == 0) Collections.reverse(others);
        List<Leg> out = new ArrayList<>(List.of(reference));
        for (Leg l : others) {
            out.add(l);
            out.add(reference);
        }
        return out;
    }

    /** The incomplete run's reason, or null. */
    public String stopReason() {
        return stopReason;
    }

    private List<Leg> start(Path model, Checkpoint cp) {
        OkHttpClient http = OpenAiClient.http(64, Duration.ofSeconds(300));
        List<Leg> legs = new ArrayList<>();
        InProcessEngine one = new InProcessEngine(cp, EngineOptions.DEFAULT, "inproc0");
        running.add(one);
        legs.add(new Leg(
                "inproc",
                Topology.INPROC,
                "one engine",
                List.of(new InProcessTarget(one)),
                LoadGenerator.Routing.AFFINITY));
        List<Target> engines = new ArrayList<>();
        for (int i = 0; i < c.numServers(); i++) {
            InProcessEngine e = new InProcessEngine(Checkpoint.load(model), EngineOptions.DEFAULT, "inprocN" + i);
            running.add(e);
            engines.add(new InProcessTarget(e));
        }
        legs.add(new Leg("inprocN/affinity", Topology.INPROC_N, "affinity", engines, LoadGenerator.Routing.AFFINITY));
        Path logs = results.dir().resolve("logs");
        ServeProcess serve = ServeProcess.start(
                List.of(
                        "--model",
                        model.toString(),
                        "--num-servers",
                        String.valueOf(c.numServers()),
                        "--base-port",
                        "0"),
                logs.resolve("serve.log"),
                Duration.ofSeconds(120));
        running.add(serve);
        servePid = serve.jvm().pid();
        List<OpenAiClient> clients = serve.urls().stream()
                .map(u -> new OpenAiClient(http, u, null, true))
                .toList();
        List<Target> ports = clients.stream().map(Target::http).toList();
        engineSteps = new EngineSteps(
                running.stream()
                        .filter(InProcessEngine.class::isInstance)
                        .map(InProcessEngine.class::cast)
                        .toList(),
                clients);
        legs.add(
                new Leg("httpN/round-robin", Topology.HTTP_N, "round-robin", ports, LoadGenerator.Routing.ROUND_ROBIN));
        legs.add(new Leg("httpN/affinity", Topology.HTTP_N, "affinity", ports, LoadGenerator.Routing.AFFINITY));
        for (String policy : List.of("round-robin", "least-load", "cache-aware", "sticky")) {
            LbChild lb = LbChild.start(serve.urls(), policy, List.of(), logs.resolve("lb-" + policy + ".log"), http);
            running.add(lb.jvm());
            lbPids.add(lb.jvm().pid());
            OpenAiClient balancer = new OpenAiClient(http, lb.url(), null, true);
            legs.add(new Leg(
                    "lb/" + policy,
                    Topology.LB,
                    policy,
                    List.of(Target.http(balancer)),
                    LoadGenerator.Routing.ROUND_ROBIN,
                    balancer));
        }
        return legs;
    }

    /** One leg, one round: prompts seeded by {@code seed}, so no other leg or round sent them. */
    private PrefixRun measure(Leg leg, int round, int slot, long seed, int units) throws Exception {
        Workload w;
        MooncakeTrace.Replay trace = null;
        if (spec.kind() == PrefixWorkload.Kind.TRACE) {
            trace = MooncakeTrace.read(MooncakeTrace.SYNTHETIC, sampling(seed), spec.promptLen(), 1000, seed);
            w = trace.workload();
        } else w = workload(seed, units);
        int n = w.requests().size() * (spec.kind() == PrefixWorkload.Kind.SESSIONS ? spec.turns() : 1);
        var options = LoadGenerator.Options.closed(leg.topology(), Connection.KEEP_ALIVE, spec.concurrency(), n)
                .withRouting(leg.client());
        LoadGenerator g = trace != null
                ? new LoadGenerator(leg.targets(), trace, options)
                : new LoadGenerator(leg.targets(), w, options);
        current = g;
        if (stopReason != null) g.stop(stopReason);
        RoutingGuess guess = leg.balancer() == null
                ? null
                : RoutingGuess.before(leg.balancer(), problem -> log.println("prefix: " + leg.name() + ": " + problem));
        LegCpu cpu0 = LegCpu.read(servePid, lbPids);
        StepTotals steps0 = engineSteps.read();
        double steal0 = MachineLoad.stealMs();
        long t0 = System.nanoTime();
        LoadGenerator.Run run = g.run();
        double wallMs = (System.nanoTime() - t0) / 1e6;
        LegCpu used = LegCpu.read(servePid, lbPids).minus(cpu0);
        StepTotals steps = engineSteps.read().minus(steps0);
        double stolen = MachineLoad.stealMs() - steal0;
        RoutingGuess.Routed routed = guess == null ? null : guess.after();
        double guessed = routed == null ? Double.NaN : routed.share();
        if (routed != null) log.println("prefix:   " + leg.name() + " sent each backend " + routed.perBackend());
        current = null;
        PrefixUse prefix = PrefixUse.of(run.records());
        long output = 0;
        for (RequestRecord r : run.records()) if (r.ok()) output += Math.max(0, r.completionTokens());
        var s = run.summary();
        return new PrefixRun(
                leg.name(),
                leg.routing(),
                round,
                slot,
                run.records().size(),
                s.failed(),
                s.throughput().outputTokens().estimate(),
                spec.stream() ? s.ttft().mean().estimate() : meanTtftOfWholeAnswers(run.records()),
                s.e2el().mean().estimate(),
                prefix.computedPerSample(),
                prefix.hitRate(),
                guessed,
                output,
                wallMs,
                used.client(),
                used.serve(),
                used.lb(),
                stolen,
                used.total() > 0 ? output / (used.total() / 1000) : Double.NaN,
                steps.steps(),
                steps.decodeRows(),
                steps.busyNanos() / 1e6,
                true);
    }

    /**
     * A whole answer's first token reaches the client with its last, so its TTFT is read as the e2el less the engine's
     * decode: what the client would have waited for a first token sent at once, the way in and the prefill included.
     */
    static double meanTtftOfWholeAnswers(List<RequestRecord> records) {
        double sum = 0;
        int n = 0;
        for (RequestRecord r : records) {
            if (!r.ok()
                    || r.serverTiming() == null
                    || Double.isNaN(r.serverTiming().decodeMs())) continue;
            sum += r.e2elMs() - r.serverTiming().decodeMs();
            n++;
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    private Workload.Sampling sampling(long seed) {
        return new Workload.Sampling(
                CompletionRequest.Endpoint.COMPLETIONS,
                null,
                spec.outputLen(),
                null,
                1.0,
                seed,
                1,
                spec.stream(),
                true);
    }

    private Workload workload(long seed, int units) {
        Workload.Sampling s = sampling(seed);
        Workload w = Workload.synthetic(units, LengthDist.fixed(spec.promptLen()), s, 1000, seed);
        return spec.kind() == PrefixWorkload.Kind.GROUPS
                ? w.grouped(spec.groupSize(), Workload.GroupMode.SEPARATE)
                : w.inSessions(new Workload.Turns(spec.turns(), spec.toolTokens(), 0, 1000));
    }

    /** The run's configuration for run.json. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", "compare");
        m.put("workload", spec.kind().name().toLowerCase(Locale.ROOT));
        m.put("spec", spec);
        m.put("model", c.model() != null ? c.model().toString() : c.shape());
        m.put("num_servers", c.numServers());
        m.put("prefix_cache", "on, the engines' default cap");
        m.put("answers", spec.stream() ? "streamed" : "whole (TTFT: e2el less the engine's decode)");
        m.put("remeasured_above_stolen_pct", PrefixRun.DISTURBED_PCT);
        return m;
    }
}
