package dev.rolloutlab.server;

import dev.rolloutlab.engine.EngineOptions;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.StepListener;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.StepClock;
import dev.rolloutlab.util.SpanLog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * N OpenAI ports in one JVM, as sglang-jax's multi-port runner ({@code run_multi_openai_servers}): one engine per port
 * (the default, like one TPU device per engine) or one engine shared by every port. Closing the group stops the ports,
 * then the engines.
 */
public final class ServerGroup implements AutoCloseable {
    /**
     * Test only: costs a test adds where it knows they must land, set on a process whose serve children inherit them:
     * {@code serve} per completion, outside the engine (the path's cost: spent on the CPU up to 100 ms, a stall that
     * waits beyond), and {@code engineStep} per engine step, inside the engine's own time (compute).
     */
    public record TestDelays(Duration serve, Duration engineStep) {
        public static final TestDelays NONE = new TestDelays(Duration.ZERO, Duration.ZERO);
        public static final String SERVE_ENV = "ROLLOUT_LAB_TEST_SERVE_DELAY_MS",
                ENGINE_STEP_ENV = "ROLLOUT_LAB_TEST_ENGINE_STEP_DELAY_MS";

        /** The delays in this process's environment, zero where unset; a value outside 0..10000 ms is refused. */
        public static TestDelays fromEnvironment() {
            return new TestDelays(ms(SERVE_ENV), ms(ENGINE_STEP_ENV));
        }

        private static Duration ms(String variable) {
            String v = System.getenv(variable);
            if (v == null || v.isBlank()) return Duration.ZERO;
            try {
                int ms = Integer.parseInt(v.trim());
                if (ms >= 0 && ms <= 10_000) return Duration.ofMillis(ms);
            } catch (NumberFormatException ignored) {
                // refused below with the variable's name
            }
            throw new IllegalArgumentException(variable + " must be a number of ms in [0, 10000], got " + v);
        }
    }

    /** Whether each port gets its own engine. */
    public enum Engines {
        PER_PORT,
        SHARED;

        /** {@code per-port} or {@code shared}, as {@code serve --engine-sharing} takes it. */
        public static Engines parse(String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "per-port" -> PER_PORT;
                case "shared" -> SHARED;
                default ->
                    throw new IllegalArgumentException("--engine-sharing " + s + ": expected per-port or shared");
            };
        }
    }

    /**
     * The ports of {@code n} servers: {@code listed} when given (as many as {@code n}), else {@code base}, base+1, …
     * (0: free ports); refused, naming the flags, when they disagree.
     */
    public static List<Integer> ports(int n, int base, List<Integer> listed) {
        if (n < 1) throw new IllegalArgumentException("--num-servers must be at least 1, got " + n);
        if (listed != null && !listed.isEmpty()) {
            if (listed.size() != n)
                throw new IllegalArgumentException(
                        "--ports lists " + listed.size() + " ports but --num-servers is " + n + "; make them agree");
            return List.copyOf(listed);
        }
        List<Integer> out = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) out.add(base == 0 ? 0 : base + i);
        return out;
    }

    /** Everything needed to start a group; {@code ports} of 0 pick free ports. Built with {@link #builder(Path)}. */
    public record Spec(
            Path model,
            List<Integer> ports,
            String host,
            Engines engines,
            int backendIdBase,
            String servedModelName,
            String apiKey,
            String adminToken,
            boolean enableWeightReload,
            Duration idleTimeout,
            long initialVersion,
            Limits limits,
            TestDelays testDelays,
            StepClock timing,
            AdminExtension adminExtension,
            long prefixCacheBytes,
            boolean publicMetrics,
            Path trace) {
        /** One port on a free loopback port, one engine per port, no keys, no weight admin, the default limits. */
        public static Builder builder(Path model) {
            return new Builder(model);
        }
    }

    /** Names every choice of a {@link Spec}; unset ones keep the defaults of {@code serve}. */
    public static final class Builder {
        private final Path model;
        private List<Integer> ports = List.of(0);
        private String host = "127.0.0.1";
        private Engines engines = Engines.PER_PORT;
        private int backendIdBase;
        private String servedModelName;
        private String apiKey;
        private String adminToken;
        private boolean enableWeightReload;
        private Duration idleTimeout = Duration.ofSeconds(60);
        private long initialVersion;
        private Limits limits = Limits.DEFAULT;
        private TestDelays testDelays = TestDelays.NONE;
        private StepClock timing;
        private AdminExtension adminExtension;
        private long prefixCacheBytes = EngineOptions.AUTO_PREFIX_CACHE;
        private boolean publicMetrics;
        private Path trace;

        private Builder(Path model) {
            this.model = model;
        }

        public Builder ports(List<Integer> p) {
            this.ports = p;
            return this;
        }

        public Builder host(String h) {
            this.host = h;
            return this;
        }

        public Builder engines(Engines e) {
            this.engines = e;
            return this;
        }

        public Builder backendIdBase(int b) {
            this.backendIdBase = b;
            return this;
        }

        public Builder servedModelName(String n) {
            this.servedModelName = n;
            return this;
        }

        public Builder apiKey(String k) {
            this.apiKey = k;
            return this;
        }

        /** Serve the token-protected weight endpoints, with this admin token. */
        public Builder weightAdmin(String token) {
            this.adminToken = token;
            this.enableWeightReload = token != null;
            return this;
        }

        public Builder idleTimeout(Duration d) {
            this.idleTimeout = d;
            return this;
        }

        public Builder initialVersion(long v) {
            this.initialVersion = v;
            return this;
        }

        /** Each engine's prefix cache cap in bytes (0: off; {@link EngineOptions#AUTO_PREFIX_CACHE}: from the heap). */
        public Builder prefixCache(long bytes) {
            this.prefixCacheBytes = bytes;
            return this;
        }

        /** Serve {@code /metrics} without a token even when an admin token or API key is set. */
        public Builder publicMetrics(boolean p) {
            this.publicMetrics = p;
            return this;
        }

        /**
         * Keep every request's spans, each engine's steps and each weight change in {@code file} (JSON lines) for a
         * run's timeline; null: none (the default).
         */
        public Builder trace(Path file) {
            this.trace = file;
            return this;
        }

        public Builder limits(Limits l) {
            this.limits = l;
            return this;
        }

        /**
         * Test only: the waits a test adds, in serve and in the engine's steps. The one seam for them: this call
         * in-process, {@link TestDelays#fromEnvironment()} in a child serve.
         */
        public Builder testDelays(TestDelays d) {
            this.testDelays = d;
            return this;
        }

        /**
         * Simulated engines ({@code serve --engine sim}): steps take this model's time instead of computing, and each
         * port adds {@code routes} (the simulation's weight transfer) to its weight endpoints.
         */
        public Builder simulated(StepClock t, AdminExtension routes) {
            this.timing = t;
            this.adminExtension = routes;
            return this;
        }

        public Spec build() {
            return new Spec(
                    model,
                    ports,
                    host,
                    engines,
                    backendIdBase,
                    servedModelName != null
                            ? servedModelName
                            : model.getFileName().toString(),
                    apiKey,
                    adminToken,
                    enableWeightReload,
                    idleTimeout,
                    initialVersion,
                    limits,
                    testDelays,
                    timing,
                    adminExtension,
                    prefixCacheBytes,
                    publicMetrics,
                    trace);
        }
    }

    private final List<OpenAiServer> servers = new ArrayList<>();
    private final List<InProcessEngine> engines = new ArrayList<>();
    private final List<WeightAdmin> admins = new ArrayList<>();
    /** A simulated host's link, shared by its ports as a host's NIC is (zero until the fleet sets it). */
    private final LinkDelay link = new LinkDelay();

    private SpanLog spans = SpanLog.OFF;

    private ServerGroup() {}

    /** Starts every port; if one fails (a port in use), the ones already started are stopped before it throws. */
    public static ServerGroup start(Spec spec) {
        ServerGroup g = new ServerGroup();
        try {
            if (spec.trace() != null) g.spans = SpanLog.open(spec.trace(), "serve");
            Checkpoint first = Checkpoint.load(spec.model());
            InProcessEngine shared = null;
            WeightAdmin sharedAdmin = null;
            for (int i = 0; i < spec.ports().size(); i++) {
                InProcessEngine e;
                WeightAdmin a;
                if (spec.engines() == Engines.SHARED && shared != null) {
                    e = shared;
                    a = sharedAdmin;
                } else {
                    Checkpoint cp = i == 0 ? first : Checkpoint.load(spec.model());
                    EngineOptions eo = EngineOptions.DEFAULT
                            .withInitialVersion(spec.initialVersion())
                            .withPrefixCache(spec.prefixCacheBytes())
                            .withTestStepDelay(spec.testDelays().engineStep());
                    e = new InProcessEngine(cp, spec.timing() == null ? eo : eo.simulated(spec.timing()), "port" + i);
                    a = new WeightAdmin(e, spec.limits().reloadTimeout(), spec.servedModelName(), g.spans);
                    if (g.spans.on()) e.onSteps(steps(g.spans, "engine " + e.name()));
                    g.engines.add(e);
                    g.admins.add(a);
                    shared = e;
                    sharedAdmin = a;
                }
                OpenAiServer.Options o = new OpenAiServer.Options(
                        spec.host(),
                        spec.ports().get(i),
                        spec.backendIdBase() + i,
                        spec.servedModelName(),
                        spec.apiKey(),
                        spec.adminToken(),
                        spec.enableWeightReload(),
                        spec.idleTimeout(),
                        spec.limits(),
                        spec.testDelays().serve(),
                        spec.adminExtension(),
                        spec.timing() != null ? g.link : null,
                        spec.publicMetrics(),
                        g.spans);
                OpenAiServer s = new OpenAiServer(e, a, o);
                g.servers.add(s);
                try {
                    s.start();
                } catch (RuntimeException ex) {
                    throw new IllegalStateException(
                            "cannot listen on " + spec.host() + ":"
                                    + spec.ports().get(i) + ": " + rootMessage(ex)
                                    + " (is the port in use? pick another --base-port or use 0 for free ports)",
                            ex);
                }
            }
            return g;
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    /** An engine's steps as spans on its own track, with what each decoded and prefilled. */
    private static StepListener steps(SpanLog log, String track) {
        return (startNs, endNs, decoded, prefilled) ->
                log.span(track, "step", startNs, endNs, null, Map.of("decoded", decoded, "prefilled", prefilled));
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) t = t.getCause();
        return t.getMessage();
    }

    public List<OpenAiServer> servers() {
        return servers;
    }

    public List<InProcessEngine> engines() {
        return engines;
    }

    public List<Integer> ports() {
        return servers.stream().map(OpenAiServer::port).toList();
    }

    public List<String> urls() {
        return servers.stream().map(OpenAiServer::baseUrl).toList();
    }

    @Override
    public void close() {
        for (OpenAiServer s : servers) {
            try {
                s.close();
            } catch (RuntimeException ignored) {
                // a server that failed to start has nothing to stop
            }
        }
        admins.forEach(WeightAdmin::close);
        engines.forEach(InProcessEngine::close);
        spans.close();
    }
}
