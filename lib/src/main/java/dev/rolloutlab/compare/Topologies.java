package dev.rolloutlab.compare;

import dev.rolloutlab.bench.Target;
import dev.rolloutlab.engine.EngineOptions;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.StepListener;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.JvmFlags;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.util.Secrets;
import dev.rolloutlab.util.SpanLog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import okhttp3.OkHttpClient;

/**
 * Everything the topologies under test need, started once before the first round so every round measures the same
 * processes: the in-process engines in this JVM ({@code inproc} uses the first of {@code inprocN}'s N), one serve
 * process with N ports and one engine per port ({@code http1} uses its first port), and the balancer in front of it.
 * Hands out the legs (topology × connection) in a fixed order; closing stops them all.
 */
final class Topologies implements AutoCloseable {
    /**
     * One measured leg: a topology under one connection policy ({@code none} in-process), and where its requests go.
     */
    record Leg(Topology topology, Connection connection, List<Target> targets) {
        String key() {
            return topology + "/" + connection;
        }

        /** Throughput sweeps run keep-alive (or in-process) only. */
        boolean sweeps() {
            return connection != Connection.CLOSE;
        }
    }

    private final List<Leg> legs = new ArrayList<>();
    private final List<AutoCloseable> running = new ArrayList<>();
    private final Map<String, String> compute = new LinkedHashMap<>();
    private long servePid = -1, lbPid = -1;
    private final List<MeasuredProcess> processes = new ArrayList<>();
    /** serve's zero-compute twins and the balancer, kept for {@link #twins}. */
    private List<String> twinUrls = List.of(), urls = List.of();

    private String lbUrl;
    private OpenAiClient lbAdmin;
    /** Where serve and lb keep their spans ({@code --timeline}); null: none. */
    private Path traceDir;

    private final String lbToken = UUID.randomUUID().toString();

    /**
     * Starts the processes of {@code c}; with {@code withTwins} serve also runs a zero-compute twin of each port and
     * the balancer knows them (drained), so {@link #twins} can measure the control in these same, warm processes.
     */
    Topologies(
            CompareConfig c,
            Path model,
            Checkpoint cp,
            Path logs,
            OkHttpClient http,
            ToIntFunction<String> tokenizer,
            boolean withTwins,
            SpanLog spans) {
        try {
            traceDir = c.timeline() ? logs.resolveSibling("trace") : null;
            List<Target> engines = inProcessEngines(c, model, cp);
            if (spans.on())
                for (AutoCloseable r : running)
                    if (r instanceof InProcessEngine e) e.onSteps(stepSpans(spans, "engine " + e.name()));
            boolean anyHttp = c.topologies().stream().anyMatch(t -> !t.inProcess());
            if (anyHttp)
                urls = c.externalTargets().isEmpty() ? startServe(c, model, logs, withTwins) : c.externalTargets();
            lbUrl = c.topologies().contains(Topology.LB) ? startLb(urls, twinUrls, logs, http) : null;
            addLegs(c, engines, urls, http, tokenizer);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private Topologies(
            Topologies real,
            CompareConfig control,
            Path model,
            Checkpoint cp,
            OkHttpClient http,
            ToIntFunction<String> tokenizer) {
        servePid = real.servePid;
        lbPid = real.lbPid;
        processes.addAll(real.processes);
        try {
            List<Target> engines = inProcessEngines(control, model, cp);
            lbUrl = real.lbUrl;
            addLegs(control, engines, real.twinUrls, http, tokenizer);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * The zero-compute control's topologies in these same processes: serve's twins, this balancer (once
     * {@link #routeLbToTwins} switched it) and clock engines in this JVM. Closing them closes only those engines.
     */
    Topologies twins(
            CompareConfig control, Path model, Checkpoint cp, OkHttpClient http, ToIntFunction<String> tokenizer) {
        if (twinUrls.isEmpty() && urls.size() > 0)
            throw new IllegalStateException("serve was started without its zero-compute twins");
        return new Topologies(this, control, model, cp, http, tokenizer);
    }

    /**
     * Puts the balancer in front of serve's twins ({@code true}: the real ports drain) or back in front of the real
     * ports; a request already on its way finishes where it went.
     */
    void routeLbToTwins(boolean twins) {
        if (lbUrl == null) return;
        for (String u : urls) drain(u, twins);
        for (String u : twinUrls) drain(u, !twins);
    }

    /**
     * The main grid's and the freshness experiment's engines keep no prefix cache: the cells send the same prompts in
     * every round and on every leg, so a cache would turn its prefill into lookups, on whichever engines happened to
     * see a prompt before.
     */
    static final long MAIN_GRID_PREFIX_CACHE = 0; // bytes; serve takes it in MiB

    private List<Target> inProcessEngines(CompareConfig c, Path model, Checkpoint cp) {
        List<Target> engines = new ArrayList<>();
        boolean inprocN = c.topologies().contains(Topology.INPROC_N);
        if (inprocN || c.topologies().contains(Topology.INPROC)) {
            for (int i = 0; i < c.engines(inprocN ? Topology.INPROC_N : Topology.INPROC); i++) {
                // on a simulated fleet the in-process baseline runs the same timing model without HTTP, an engine
                // per host as the fleet has, each on its host's cores; in the zero-compute control, no time
                EngineOptions eo = (c.timing() == null
                                ? EngineOptions.DEFAULT
                                : EngineOptions.DEFAULT.simulated(c.timing()))
                        .withPrefixCache(MAIN_GRID_PREFIX_CACHE);
                InProcessEngine e =
                        new InProcessEngine(i == 0 ? cp : Checkpoint.load(model), eo, Topology.INPROC.wire() + i);
                running.add(e);
                engines.add(new InProcessTarget(e));
            }
        }
        if (!engines.isEmpty() && processes.stream().noneMatch(p -> p.role().equals(MeasuredProcess.IN_PROCESS)))
            processes.add(new MeasuredProcess(
                    MeasuredProcess.IN_PROCESS, ProcessHandle.current().pid(), JvmFlags.current()));
        return engines;
    }

    private void addLegs(
            CompareConfig c,
            List<Target> engines,
            List<String> urls,
            OkHttpClient http,
            ToIntFunction<String> tokenizer) {
        int cores = Runtime.getRuntime().availableProcessors();
        for (Topology t : c.topologies()) {
            switch (t) {
                case INPROC -> legs.add(new Leg(t, Connection.NONE, engines.subList(0, 1)));
                case INPROC_N -> legs.add(new Leg(t, Connection.NONE, engines));
                case HTTP1, HTTP_N, LB -> {
                    for (Connection conn : c.connections()) {
                        boolean keep = conn == Connection.KEEP_ALIVE;
                        List<String> to =
                                t == Topology.LB ? List.of(lbUrl) : t == Topology.HTTP1 ? urls.subList(0, 1) : urls;
                        legs.add(new Leg(
                                t,
                                conn,
                                to.stream()
                                        .map(u -> Target.http(new OpenAiClient(http, u, null, keep), tokenizer))
                                        .toList()));
                    }
                }
            }
            compute.put(t.wire(), describe(c, t, cores));
        }
    }

    /** An in-process engine's steps as spans on its own track, as serve keeps its engines'. */
    private static StepListener stepSpans(SpanLog log, String track) {
        return (startNs, endNs, decoded, prefilled) ->
                log.span(track, "step", startNs, endNs, null, Map.of("decoded", decoded, "prefilled", prefilled));
    }

    /** The servers this run started or was given, with the balancer, for sampling their {@code /metrics}. */
    List<OpenAiClient> servers(OkHttpClient http) {
        List<OpenAiClient> out = new ArrayList<>();
        for (String u : urls) out.add(new OpenAiClient(http, u, null, true));
        if (lbUrl != null) out.add(new OpenAiClient(http, lbUrl, lbToken, true)); // its /metrics needs its token
        return out;
    }

    List<Leg> legs() {
        return legs;
    }

    long servePid() {
        return servePid;
    }

    /** Every process this run measures, with the flags it was started with. */
    List<MeasuredProcess> processes() {
        return processes;
    }

    long lbPid() {
        return lbPid;
    }

    /** This JVM and every other measured JVM on this machine: whose JIT compilers share the legs' cores. */
    List<Long> localJvms() {
        List<Long> pids = new ArrayList<>(List.of(ProcessHandle.current().pid()));
        processes.stream()
                .map(MeasuredProcess::pid)
                .filter(p -> p >= 0 && !pids.contains(p))
                .forEach(pids::add);
        return pids;
    }

    /** What computes behind each topology, in words for run.json and the report: engines, JVMs, threads, cores. */
    Map<String, String> compute() {
        return compute;
    }

    private static String describe(CompareConfig c, Topology t, int cores) {
        int n = c.engines(t);
        String engines =
                n + (n == 1 ? " engine" : " engines") + " (one scheduler thread each, sharing one kernel pool of "
                        + Math.max(1, cores - 1) + " worker(s) plus the caller)";
        if (c.fleet() != null)
            return t.inProcess()
                    ? n + " simulated engines in this JVM (the fleet's timing model, no HTTP)"
                    : "simulated fleet " + c.fleet() + " (network namespaces, one serve --engine sim per host)"
                            + (t == Topology.LB ? " behind our lb JVM" : "");
        if (c.simProfile() != null)
            return (t.inProcess()
                            ? n + " clock engines in the client JVM"
                            : "the zero-compute twins of the serve JVM's ports (" + n + " clock engines"
                                    + (t == Topology.LB ? ", behind the same lb JVM" : "")
                                    + "; the JVMs that served the real legs)")
                    + ": steps take no time (zero-compute control)";
        if (!c.externalTargets().isEmpty() && !t.inProcess())
            return "external servers " + c.externalTargets() + (t == Topology.LB ? " behind our lb JVM" : "");
        return switch (t) {
            case INPROC, INPROC_N -> engines + " in the client JVM; " + cores + " cores shared with the load generator";
            case HTTP1 ->
                "port 1 of the serve JVM: " + engines + "; " + cores
                        + " cores shared by the client JVM and the serve JVM";
            case HTTP_N ->
                c.numServers() + " ports of the serve JVM: " + engines + "; " + cores
                        + " cores shared by the client JVM and the serve JVM";
            case LB ->
                "the lb JVM in front of the serve JVM's " + c.numServers() + " ports: " + engines + "; " + cores
                        + " cores shared by the client, lb and serve JVMs";
        };
    }

    private List<String> startServe(CompareConfig c, Path model, Path logs, boolean withTwins) {
        List<String> args = new ArrayList<>(List.of(
                "--model", model.toString(), "--num-servers", String.valueOf(c.numServers()), "--base-port", "0"));
        if (c.simProfile() != null) args.addAll(List.of("--engine", "sim", "--sim-profile", c.simProfile()));
        if (withTwins) args.add("--zero-compute-twins");
        args.addAll(List.of("--prefix-cache-mb", String.valueOf(MAIN_GRID_PREFIX_CACHE >> 20)));
        if (traceDir != null)
            args.addAll(List.of("--trace", traceDir.resolve("serve.jsonl").toString()));
        ServeProcess serve = ServeProcess.start(args, logs.resolve("serve.log"), Duration.ofSeconds(120));
        running.add(serve);
        servePid = serve.jvm().pid();
        twinUrls = serve.twinUrls();
        processes.add(new MeasuredProcess("serve", servePid, serve.jvm().jvmFlags()));
        return serve.urls();
    }

    /**
     * The balancer in front of {@code backends}, and of {@code twins} drained until {@link #twins} switches to them.
     */
    private String startLb(List<String> backends, List<String> twins, Path logs, OkHttpClient http) {
        List<String> all = new ArrayList<>(backends);
        all.addAll(twins);
        List<String> extra = new ArrayList<>();
        if (traceDir != null)
            extra.addAll(List.of("--trace", traceDir.resolve("lb.jsonl").toString()));
        Function<Path, LbChild> start = tokenFile -> {
            List<String> args = new ArrayList<>(extra);
            if (tokenFile != null) args.addAll(List.of("--admin-token-file", tokenFile.toString()));
            return LbChild.start(all, "least-load", args, logs.resolve("lb.log"), http);
        };
        // the admin token drains and undrains the twins: handed over in a file (a command line is visible to every
        // user)
        LbChild lb =
                twins.isEmpty() ? start.apply(null) : Secrets.handOver(logs.resolve("lb-admin.token"), lbToken, start);
        running.add(lb.jvm());
        lbPid = lb.jvm().pid();
        processes.add(new MeasuredProcess("lb", lbPid, lb.jvm().jvmFlags()));
        lbUrl = lb.url();
        lbAdmin = lb.client();
        for (String t : twins) drain(t, true);
        return lb.url();
    }

    /** Drains (or undrains) one of the balancer's backends through its token-protected admin endpoint. */
    private void drain(String backendUrl, boolean on) {
        OpenAiClient.Exchange r = lbAdmin.post(
                on ? "/admin/drain" : "/admin/undrain",
                Map.of("backend", backendUrl),
                Map.of("X-Admin-Token", lbToken));
        if (!r.ok())
            throw new IllegalStateException("lb refused to " + (on ? "drain " : "undrain ") + backendUrl + ": HTTP "
                    + r.status() + " " + (r.error() != null ? r.error() : r.body()));
    }

    /** Stops everything at once: each child JVM may take seconds to drain, and a stopped run waits for them all. */
    @Override
    public void close() {
        List<Thread> closing = new ArrayList<>();
        for (AutoCloseable r : running) {
            closing.add(Thread.ofPlatform().name("close").start(() -> {
                try {
                    r.close();
                } catch (Exception ignored) {
                    // best effort: we are tearing down
                }
            }));
        }
        for (Thread t : closing) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        running.clear();
    }
}
