package dev.rolloutlab.compare;

import dev.rolloutlab.bench.Target;
import dev.rolloutlab.engine.EngineOptions;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ChildJvm;
import dev.rolloutlab.process.JvmFlags;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.Ports;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

    Topologies(
            CompareConfig c, Path model, Checkpoint cp, Path logs, OkHttpClient http, ToIntFunction<String> tokenizer) {
        try {
            List<Target> engines = new ArrayList<>();
            boolean inprocN = c.topologies().contains(Topology.INPROC_N);
            if (inprocN || c.topologies().contains(Topology.INPROC)) {
                for (int i = 0; i < c.engines(inprocN ? Topology.INPROC_N : Topology.INPROC); i++) {
                    // on a simulated fleet the in-process baseline runs the same timing model without HTTP, an engine
                    // per host as the fleet has, each on its host's cores; in the zero-compute control, no time
                    EngineOptions eo =
                            c.timing() == null ? EngineOptions.DEFAULT : EngineOptions.DEFAULT.simulated(c.timing());
                    InProcessEngine e =
                            new InProcessEngine(i == 0 ? cp : Checkpoint.load(model), eo, Topology.INPROC.wire() + i);
                    running.add(e);
                    engines.add(new InProcessTarget(e));
                }
            }
            if (!engines.isEmpty())
                processes.add(new MeasuredProcess(
                        MeasuredProcess.IN_PROCESS, ProcessHandle.current().pid(), JvmFlags.current()));
            List<String> urls = List.of();
            boolean anyHttp = c.topologies().stream().anyMatch(t -> !t.inProcess());
            if (anyHttp) urls = c.externalTargets().isEmpty() ? startServe(c, model, logs) : c.externalTargets();
            String lbUrl = c.topologies().contains(Topology.LB) ? startLb(urls, logs, http) : null;
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
        } catch (RuntimeException e) {
            close();
            throw e;
        }
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
                            : "serve --engine sim --sim-profile " + c.simProfile() + " (" + n + " clock engines)")
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

    private List<String> startServe(CompareConfig c, Path model, Path logs) {
        List<String> args = new ArrayList<>(List.of(
                "--model", model.toString(), "--num-servers", String.valueOf(c.numServers()), "--base-port", "0"));
        if (c.simProfile() != null) args.addAll(List.of("--engine", "sim", "--sim-profile", c.simProfile()));
        ServeProcess serve = ServeProcess.start(args, logs.resolve("serve.log"), Duration.ofSeconds(120));
        running.add(serve);
        servePid = serve.jvm().pid();
        processes.add(new MeasuredProcess("serve", servePid, serve.jvm().jvmFlags()));
        return serve.urls();
    }

    private String startLb(List<String> backends, Path logs, OkHttpClient http) {
        int port = Ports.free();
        ChildJvm lb = ChildJvm.start(
                "lb",
                List.of(
                        "--listen-port",
                        String.valueOf(port),
                        "--backends",
                        String.join(",", backends),
                        "--policy",
                        "least-load",
                        "--quiet"),
                logs.resolve("lb.log"));
        running.add(lb);
        lbPid = lb.pid();
        processes.add(new MeasuredProcess("lb", lbPid, lb.jvmFlags()));
        String url = "http://127.0.0.1:" + port;
        OpenAiClient probe = new OpenAiClient(http, url, null, true);
        if (!Await.until(() -> !lb.alive() || probe.get("/health").status() == 200, Duration.ofSeconds(60))
                || !lb.alive()) {
            throw new IllegalStateException("lb did not start:\n" + lb.tail(20));
        }
        return url;
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
