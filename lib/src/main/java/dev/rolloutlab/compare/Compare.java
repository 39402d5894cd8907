package dev.rolloutlab.compare;

import dev.rolloutlab.bench.LengthDist;
import dev.rolloutlab.bench.LoadGenerator;
import dev.rolloutlab.bench.RequestRecord;
import dev.rolloutlab.bench.RunFolder;
import dev.rolloutlab.bench.Summary;
import dev.rolloutlab.bench.Target;
import dev.rolloutlab.bench.Workload;
import dev.rolloutlab.process.ChildJvm;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.engine.Checkpoint;
import dev.rolloutlab.engine.EngineOptions;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.openai.ServerProbe;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one workload grid through every topology — {@code inproc} (engine in this JVM), {@code http1} (one port in a
 * child process), {@code httpN} (N ports, client-side fanout), {@code lb} (N ports behind our balancer) — with
 * keep-alive and with {@code Connection: close}, then the weight-freshness experiment, and writes a results folder.
 */
public final class Compare {
    /** Throughput at one concurrency on the sweep workload, keep-alive. */
    public record SweepPoint(String topology, int concurrency, double requestThroughput, double outputThroughput,
                             double meanE2elMs, double p99E2elMs) {
    }

    /** What a run produced: its summary rows, and whether (and why) it stopped early. */
    public record Outcome(List<Summary> summaries, List<FreshnessExperiment.StrategySummary> freshness, boolean incomplete, String reason) {
    }

    private final CompareConfig c;
    private final RunFolder results;
    private final PrintStream log;
    private final List<RequestRecord> records = new ArrayList<>();
    private final List<Summary> summaries = new ArrayList<>();
    private final List<SweepPoint> sweep = new ArrayList<>();
    private final List<AutoCloseable> running = new ArrayList<>();
    private final AtomicReference<LoadGenerator> current = new AtomicReference<>();
    private volatile String stopReason;
    private final okhttp3.OkHttpClient http = OpenAiClient.http(128, Duration.ofSeconds(300));

    public Compare(CompareConfig config, RunFolder results, PrintStream log) {
        this.c = config;
        this.results = results;
        this.log = log;
    }

    /** Stops the current leg and everything started; {@link #run()} then writes what it has, marked incomplete. */
    public void stop(String reason) {
        stopReason = reason;
        LoadGenerator g = current.get();
        if (g != null) g.stop(reason);
    }

    public Outcome run() {
        Path model = c.model() != null ? c.model() : dev.rolloutlab.engine.DefaultModels.ensure(c.shape());
        List<FreshnessExperiment.StrategySummary> fresh = List.of();
        try {
            Checkpoint cp = Checkpoint.load(model);
            String name = model.getFileName().toString();
            settleEndpoint(cp);
            calibrationBefore = dev.rolloutlab.process.MachineLoad.calibrationMs();
            progress = new Progress(log, Progress.planned(c));
            for (String topology : c.topologies()) {
                if (stopReason != null) break;
                runTopology(topology, model, name, cp);
            }
            closeAll(); // the topology servers are done; free the cores for the freshness servers
            if (stopReason == null && !c.strategies().isEmpty()) {
                FreshnessExperiment fx = new FreshnessExperiment(c, model, results.dir(), log, http);
                fresh = fx.run(() -> stopReason != null);
                for (var s : fresh) summaries.add(s.asSummary());
                results.writeFreshness(fx.samples(), FreshnessExperiment.StrategySummary.class, fresh);
            }
        } catch (RuntimeException e) {
            if (stopReason == null) stopReason = "failed: " + e.getMessage();
            log.println("compare: " + stopReason);
        } finally {
            closeAll();
            if (!Double.isNaN(calibrationBefore)) calibrationAfter = dev.rolloutlab.process.MachineLoad.calibrationMs();
            if (stopReason == null && !failedLegs.isEmpty()) {
                stopReason = failedLegs.size() + " leg(s) stopped early (" + String.join(", ", failedLegs) + "): " + saidWhy.iterator().next();
            }
            addOverheads();
            results.writeRequests(records);
            results.writeSummaries(summaries);
            results.writeSweep(SweepPoint.class, sweep);
            results.writeTable("cpu.csv", CpuMeter.Point.class, cpu);
        }
        return new Outcome(List.copyOf(summaries), fresh, stopReason != null, stopReason);
    }

    /** The endpoint every leg uses, and what the external targets serve; settled once per run. */
    private CompletionRequest.Endpoint endpoint = CompletionRequest.Endpoint.COMPLETIONS;
    private String externalModel;
    private java.util.function.ToIntFunction<String> tokenizer;
    /** Topology/connection pairs whose legs stopped early, and the distinct reasons already printed. */
    private final java.util.Set<String> failedLegs = new java.util.TreeSet<>(), saidWhy = new java.util.LinkedHashSet<>();

    /**
     * For external targets: which model they serve, which endpoint they implement (under {@code auto}), and how to
     * count tokens when they send no usage (the model's tokenizer, only when {@code --model} names it).
     */
    private void settleEndpoint(Checkpoint cp) {
        if (c.model() != null) tokenizer = text -> cp.tokenizer().encode(text).length;
        if (c.externalTargets().isEmpty()) {
            if (c.endpoint().equals("chat")) endpoint = CompletionRequest.Endpoint.CHAT;
            return;
        }
        OpenAiClient first = new OpenAiClient(http, c.externalTargets().get(0), null, true);
        try {
            externalModel = ServerProbe.servedModel(first);
        } catch (IllegalArgumentException e) {
            log.println("compare: " + e.getMessage() + "; requests go without a model name");
        }
        endpoint = switch (c.endpoint()) {
            case "chat" -> CompletionRequest.Endpoint.CHAT;
            case "completions" -> CompletionRequest.Endpoint.COMPLETIONS;
            default -> ServerProbe.detectEndpoint(first, externalModel);
        };
        log.println("compare: external targets serve " + (externalModel != null ? externalModel : "(unknown model)") + ", endpoint "
                + endpoint.path + (c.endpoint().equals("auto") ? " (auto)" : ""));
    }

    private void runTopology(String topology, Path model, String name, Checkpoint cp) {
        log.println("compare: topology " + topology);
        switch (topology) {
            case "inproc" -> {
                InProcessEngine engine = new InProcessEngine(cp, EngineOptions.DEFAULT);
                try {
                    runLegs(topology, "none", List.of(new InProcessTarget(engine)), name);
                    runSweep(topology, List.of(new InProcessTarget(engine)), name);
                } finally {
                    close(engine);
                }
            }
            case "http1", "httpN", "lb" -> {
                List<String> urls = c.externalTargets().isEmpty() ? servers(model) : c.externalTargets();
                String lbUrl = topology.equals("lb") ? lb(urls) : null;
                for (String conn : c.connections()) {
                    if (stopReason != null) break;
                    boolean keep = conn.equals("keep-alive");
                    List<Target> targets = lbUrl != null ? List.of(Target.http(new OpenAiClient(http, lbUrl, null, keep), tokenizer))
                            : (topology.equals("http1") ? urls.subList(0, 1) : urls).stream()
                            .map(u -> Target.http(new OpenAiClient(http, u, null, keep), tokenizer)).toList();
                    String served = c.externalTargets().isEmpty() ? name : externalModel;
                    runLegs(topology, conn, targets, served);
                    // a topology whose legs all failed has nothing to sweep
                    if (keep && !failedLegs.contains(topology + "/" + conn)) runSweep(topology, targets, served);
                }
            }
            default -> throw new IllegalArgumentException("unknown topology " + topology + " (expected inproc, http1, httpN, lb)");
        }
    }

    private List<String> serverUrls;
    private String lbUrl;
    /** The processes on the HTTP paths, for CPU per request; -1 until started (or for external targets). */
    private long servePid = -1, lbPid = -1;
    private final List<CpuMeter.Point> cpu = new ArrayList<>();
    private Progress progress;
    /** A fixed computation timed before and after the run: if it moved, the machine changed under the run. */
    private double calibrationBefore = Double.NaN, calibrationAfter = Double.NaN;

    /** One serve process with N ports (one engine each) backs http1 (its first port), httpN and lb. */
    private List<String> servers(Path model) {
        if (serverUrls == null) serverUrls = startServers("serve", model, c.numServers());
        return serverUrls;
    }

    private String lb(List<String> urls) {
        if (lbUrl == null) lbUrl = startLb(urls);
        return lbUrl;
    }

    private List<String> startServers(String topology, Path model, int n) {
        ServeProcess serve = ServeProcess.start(List.of("--model", model.toString(), "--num-servers", String.valueOf(n), "--base-port", "0"),
                results.dir().resolve("logs").resolve(topology + "-serve.log"), Duration.ofSeconds(120));
        running.add(serve);
        servePid = serve.jvm().pid();
        return serve.urls();
    }

    private String startLb(List<String> backends) {
        Path logFile = results.dir().resolve("logs").resolve("lb.log");
        int port = dev.rolloutlab.util.Ports.free();
        ChildJvm lb = ChildJvm.start("lb", List.of("--listen-port", String.valueOf(port), "--backends", String.join(",", backends),
                "--policy", "least-load", "--quiet"), logFile);
        running.add(lb);
        lbPid = lb.pid();
        String url = "http://127.0.0.1:" + port;
        OpenAiClient probe = new OpenAiClient(http, url, null, true);
        if (!Await.until(() -> !lb.alive() || probe.get("/health").status() == 200, Duration.ofSeconds(60)) || !lb.alive()) {
            throw new IllegalStateException("lb did not start:\n" + lb.tail(20));
        }
        return url;
    }

    private void runLegs(String topology, String connection, List<Target> targets, String model) {
        // JIT and connection warm-up on every cell, unrecorded: a fresh server JVM is otherwise measured cold
        String leg = topology + "/" + connection;
        for (int in : c.promptLens()) {
            for (int out : c.outputLens()) {
                if (failedLegs.contains(leg)) break;
                measure(topology, connection, targets, workload(in, out, model, c.warmupPerCell()), c.warmupPerCell(), false);
            }
        }
        for (int in : c.promptLens()) {
            for (int out : c.outputLens()) {
                if (stopReason != null) return;
                // a leg that failed fast fails the same way in every cell: record one cell, say why once, move on
                measure(topology, connection, targets, workload(in, out, model, c.requestsPerLeg()), c.requestsPerLeg(), true);
                if (failedLegs.contains(leg)) return;
            }
        }
    }

    /** Throughput vs concurrency on the shortest prompt and longest output, keep-alive only. */
    private void runSweep(String topology, List<Target> targets, String model) {
        int in = c.promptLens().get(0), out = c.outputLens().get(c.outputLens().size() - 1);
        for (int k : c.sweepConcurrency()) {
            if (stopReason != null) return;
            int n = Math.max(c.quick() ? 8 : 12, 2 * k);
            LoadGenerator g = new LoadGenerator(targets, workload(in, out, model, n), LoadGenerator.Options.closed(topology, "keep-alive", k, n)
                    .withRouting(LoadGenerator.Routing.LEAST_OUTSTANDING));
            current.set(g);
            try {
                Summary s = g.run().summary();
                sweep.add(new SweepPoint(topology, k, s.requestThroughput(), s.outputThroughput(), s.meanE2elMs(), s.p99E2elMs()));
                log.printf("  %-6s sweep      concurrency %-3d %7.1f tok/s  e2el %8.2f ms%n", topology, k, s.outputThroughput(), s.meanE2elMs());
                progress.step();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stop("interrupted");
            } finally {
                current.set(null);
            }
        }
    }

    private Workload workload(int in, int out, String model, int n) {
        Workload w = Workload.synthetic(n, LengthDist.fixed(in), new Workload.Sampling(endpoint, model,
                out, null, 1.0, 17L, 1, true, true), 1000, in * 31L + out);
        return new Workload("in=" + in + " out=" + out, w.requests());
    }

    private void measure(String topology, String connection, List<Target> targets, Workload w, int n, boolean keep) {
        LoadGenerator g = new LoadGenerator(targets, w, LoadGenerator.Options.closed(topology, connection, c.concurrency(), n)
                .withRouting(LoadGenerator.Routing.LEAST_OUTSTANDING));
        current.set(g);
        if (stopReason != null) g.stop(stopReason);
        boolean http = !topology.equals("inproc");
        CpuMeter meter = new CpuMeter(http && c.externalTargets().isEmpty() ? servePid : -1, topology.equals("lb") ? lbPid : -1);
        try {
            LoadGenerator.Run run = g.run();
            if (run.failedFast()) {
                failedLegs.add(topology + "/" + connection);
                if (saidWhy.add(run.reason())) log.println("compare: " + topology + " " + connection + ": " + run.reason());
            }
            if (!keep) return;
            records.addAll(run.records());
            summaries.add(run.summary());
            cpu.add(meter.stop(topology, connection, w.name(), run.records().size()));
            log.printf("  %-6s %-10s %-16s %3d ok %2d failed  e2el %8.2f ms  %7.1f tok/s%n", topology, connection, w.name(),
                    run.summary().completed(), run.summary().failed(), run.summary().meanE2elMs(), run.summary().outputThroughput());
            progress.step();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop("interrupted");
        } finally {
            current.set(null);
        }
    }

    /** overhead_ms_per_request: mean end-to-end latency minus the in-process mean on the same workload. */
    private void addOverheads() {
        Map<String, Double> base = new HashMap<>();
        for (Summary s : summaries) if (s.topology().equals("inproc")) base.put(s.workload(), s.meanE2elMs());
        for (int i = 0; i < summaries.size(); i++) {
            Summary s = summaries.get(i);
            Double b = base.get(s.workload());
            if (b != null && !s.workload().equals("freshness")) summaries.set(i, s.withOverhead(s.meanE2elMs() - b));
        }
    }

    private void closeAll() {
        for (int i = running.size() - 1; i >= 0; i--) close(running.get(i));
        running.clear();
    }

    private static void close(AutoCloseable a) {
        try {
            a.close();
        } catch (Exception ignored) {
            // best effort: we are tearing down
        }
    }


    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", "compare");
        m.put("quick", c.quick());
        m.put("model", c.model() != null ? c.model().toString() : "default " + c.shape());
        m.put("topologies", c.topologies());
        m.put("num_servers", c.numServers());
        m.put("concurrency", c.concurrency());
        m.put("requests_per_leg", c.requestsPerLeg());
        m.put("prompt_lens", c.promptLens());
        m.put("output_lens", c.outputLens());
        m.put("connections", c.connections());
        m.put("sweep_concurrency", c.sweepConcurrency());
        m.put("strategies", c.strategies());
        m.put("freshness_steps", c.freshnessSteps());
        m.put("freshness_batch", c.freshnessBatch());
        m.put("group_size", c.groupSize());
        m.put("external_targets", c.externalTargets());
        m.put("endpoint", endpoint == CompletionRequest.Endpoint.CHAT ? "chat" : "completions");
        m.put("endpoint_flag", c.endpoint());
        m.put("calibration_ms_before", calibrationBefore);
        m.put("calibration_ms_after", calibrationAfter);
        return m;
    }
}
