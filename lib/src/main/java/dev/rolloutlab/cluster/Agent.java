package dev.rolloutlab.cluster;

import static dev.rolloutlab.util.Http.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.http1.Fetch;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.util.HostPort;
import dev.rolloutlab.util.Http;
import dev.rolloutlab.util.Secrets;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The worker agent: {@code worker_agent}'s endpoints ({@code /health}, {@code /admin/status|start|stop}), but every
 * admin call needs the bearer token, and a start names a template from the agent's own configuration with values for
 * the parameters that template declares request-settable: never a command, an executable, a classpath, a bind address
 * or a key. Servers bind where the operator said ({@link Config#serverHost()}), with the operator's API key when that
 * is beyond loopback. It runs at most one service and stops it when it stops.
 */
public final class Agent implements AutoCloseable {
    private static final Set<String> CONTROL = Set.of("kind", "force", "log_name");
    private static final Set<String> COMMAND_LIKE = Set.of("command", "cmd", "args", "argv", "shell", "exec", "script");
    private static final Set<String> MOCK_FIELDS = Set.of("num_servers", "base_port", "model_id");
    static final int MAX_MOCK_SERVERS = 64;
    private static final long MAX_BODY = 64 << 10;

    /**
     * The operator's choices: the token every admin call carries, where started servers bind and the API key they
     * require (mandatory beyond loopback), and the templates it may run.
     */
    public record Config(String token, String serverHost, String serverApiKey, Map<String, LaunchTemplate> templates) {
        public Config {
            if (token == null || token.isBlank())
                throw new IllegalArgumentException("the agent needs a token (--token-file)");
            if (serverApiKey != null && serverApiKey.isBlank()) serverApiKey = null;
            if (!HostPort.isLoopback(serverHost) && serverApiKey == null) {
                throw new IllegalArgumentException("--server-host " + serverHost
                        + " exposes started servers beyond loopback: " + "give them a key with --server-api-key-file");
            }
        }

        /** Loopback servers, no key, the built-in templates. */
        public static Config loopback(String token) {
            return new Config(token, "127.0.0.1", null, LaunchTemplate.builtIns());
        }
    }

    private final Path workdir;
    private final Config config;
    private final Javalin app;
    private Service service;
    private final ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("agent-heartbeat").daemon(true).factory());
    private final String host;
    private volatile Runnable register; // set by registerWith
    private volatile Runnable registerWhenReady; // run when a service starts

    public Agent(String host, int port, Path workdir, Config config) {
        this.host = host;
        this.workdir = workdir.toAbsolutePath();
        this.config = config;
        String token = config.token();
        this.app = Http.server((status, message) -> Map.of("ok", false, "error", message), cfg -> {
            cfg.http.maxRequestSize = MAX_BODY;
            cfg.routes.before("/admin/*", ctx -> {
                if (!Secrets.equal("Bearer " + token, ctx.header("Authorization"))) {
                    json(
                            ctx,
                            401,
                            Map.of("ok", false, "error", "unauthorized: Authorization: Bearer <agent token> required"));
                    ctx.skipRemainingHandlers();
                }
            });
            cfg.routes.get("/health", ctx -> ctx.status(200));
            cfg.routes.get("/admin/status", ctx -> json(ctx, 200, status()));
            cfg.routes.post("/admin/start", this::start);
            cfg.routes.post("/admin/stop", ctx -> {
                stopService();
                json(ctx, 200, Map.of("ok", true, "stopped", true));
            });
        });
        app.start(host, port);
    }

    public int port() {
        return app.port();
    }

    public String url() {
        return "http://" + (host.equals("0.0.0.0") ? "127.0.0.1" : host) + ":" + port();
    }

    /**
     * Registers this agent's backends with a commander registry when a service starts and every {@code ttl/3}, so they
     * expire if it dies. The registry token is the agent token; the servers' API key goes along, and the registry shows
     * it to token holders only.
     */
    public void registerWith(String registryUrl, String advertiseHost, Duration ttl) {
        OpenAiClient c =
                new OpenAiClient(OpenAiClient.http(1, Duration.ofSeconds(5)), registryUrl, config.token(), true);
        long every = Math.max(1, ttl.toMillis() / 3);
        register = () -> {
            Service s = current();
            if (s == null || !s.alive()) return;
            // a port whose /health fails (an engine that stalled) is taken out at once, not left to its TTL
            List<String> up = new ArrayList<>(), down = new ArrayList<>();
            for (int p : s.ports()) (healthy(p) ? up : down).add(advertiseHost + ":" + p);
            for (var change : List.of(Map.entry("/register", up), Map.entry("/deregister", down))) {
                if (change.getValue().isEmpty()) continue;
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("backends", change.getValue());
                body.put("ttl_sec", ttl.toMillis() / 1000.0);
                if (config.serverApiKey() != null) body.put("api_key", config.serverApiKey());
                var x = c.post(change.getKey(), body, Map.of());
                if (x.status() != 200)
                    System.err.println("agent: registry " + registryUrl + " refused " + change.getKey() + ": "
                            + (x.error() != null ? x.error() : x.status() + " " + x.body()));
            }
        };
        heartbeat.scheduleWithFixedDelay(register, 0, every, TimeUnit.MILLISECONDS);
        Runnable heartbeatOnce = register;
        // a new service registers as soon as its ports answer, not up to ttl/3 later
        registerWhenReady = () -> {
            long until = System.nanoTime() + every * 1_000_000L;
            Service s = current();
            while (s != null
                    && s.alive()
                    && System.nanoTime() < until
                    && !s.ports().stream().allMatch(this::healthy)) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
            heartbeatOnce.run();
        };
    }

    /**
     * Whether the local server on {@code port} answers {@code /health} 200 (servers without one: {@code /v1/models}).
     */
    private boolean healthy(int port) {
        String base =
                "http://" + (config.serverHost().equals("0.0.0.0") ? "127.0.0.1" : config.serverHost()) + ":" + port;
        try {
            int st = Fetch.get(base + "/health", config.serverApiKey(), Duration.ofSeconds(2), 1 << 16)
                    .status();
            return st == 200
                    || st == 404
                            && Fetch.get(base + "/v1/models", config.serverApiKey(), Duration.ofSeconds(2), 1 << 20)
                                            .status()
                                    == 200;
        } catch (IOException e) {
            return false;
        }
    }

    private synchronized Service current() {
        return service;
    }

    private synchronized Map<String, Object> status() {
        if (service == null) return Map.of("ok", true, "running", false);
        return service.status();
    }

    private void start(Context ctx) {
        JsonNode b = Http.jsonBody(ctx, MAX_BODY);
        if (!b.isObject()) {
            json(ctx, 400, Map.of("ok", false, "error", "the start request must be a JSON object"));
            return;
        }
        for (String f : COMMAND_LIKE) {
            if (b.has(f)) {
                json(
                        ctx,
                        400,
                        Map.of(
                                "ok",
                                false,
                                "error",
                                "start requests name a template 'kind' and its parameters; they never carry a "
                                        + "command ('"
                                        + f + "' refused)"));
                return;
            }
        }
        String kind = b.path("kind").asText("");
        if (kind.isEmpty()) {
            json(ctx, 400, Map.of("ok", false, "error", "kind is required"));
            return;
        }
        if (!kind.equals("mock-openai") && !config.templates().containsKey(kind)) {
            json(ctx, 400, Map.of("ok", false, "error", "unsupported kind: '" + kind + "'"));
            return;
        }
        // everything is checked before anything starts: a refused request leaves the running service alone
        Starter starter;
        try {
            starter = kind.equals("mock-openai") ? mock(b) : process(kind, b);
        } catch (IllegalArgumentException e) {
            json(ctx, 400, Map.of("ok", false, "error", String.valueOf(e.getMessage())));
            return;
        }
        synchronized (this) {
            if (service != null && service.alive()) {
                if (!b.path("force").asBoolean(false)) {
                    json(ctx, 400, Map.of("ok", false, "error", "service already running"));
                    return;
                }
                service.stop(30);
                service = null;
            }
            try {
                service = starter.start();
                Runnable r = registerWhenReady;
                if (r != null) heartbeat.execute(r);
                json(ctx, 200, service.startReply());
            } catch (RuntimeException e) {
                json(ctx, 400, Map.of("ok", false, "error", String.valueOf(e.getMessage())));
            }
        }
    }

    /** A checked start request, ready to run. */
    private interface Starter {
        Service start();
    }

    private Starter mock(JsonNode b) {
        for (var it = b.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!CONTROL.contains(f) && !MOCK_FIELDS.contains(f)) {
                throw new IllegalArgumentException(
                        "mock-openai takes " + MOCK_FIELDS + "; '" + f + "' is not a request field"
                                + (f.equals("host") || f.equals("api_key")
                                        ? " (the agent's operator sets it: --server-host, --server-api-key-file)"
                                        : ""));
            }
        }
        long n = intField(b, "num_servers", 0, 0, MAX_MOCK_SERVERS);
        long basePort = intField(b, "base_port", 0, 0, 65535);
        if (basePort != 0 && (basePort < 1024 || basePort + Math.max(n, 4) - 1 > 65535)) {
            throw new IllegalArgumentException(
                    "base_port must be 0 (free ports) or leave room in 1024-65535, got " + basePort);
        }
        String model = b.path("model_id").asText("mock-model");
        if (!model.matches("[A-Za-z0-9._/@:-]{1,128}"))
            throw new IllegalArgumentException("model_id must be 1-128 characters of A-Za-z0-9._/@:-");
        int count = n > 0 ? (int) n : 4; // worker_agent's quirk: a falsy number means the default
        return () -> Service.mock(
                config.serverHost(),
                count,
                (int) basePort,
                model,
                config.serverApiKey() == null ? "" : config.serverApiKey(),
                0);
    }

    private static long intField(JsonNode b, String f, long def, long min, long max) {
        JsonNode v = b.get(f);
        if (v == null || v.isNull()) return def;
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
            throw new IllegalArgumentException(f + " must be an integer in [" + min + ", " + max + "], got " + v);
        }
        return v.asLong();
    }

    private Starter process(String kind, JsonNode b) {
        LaunchTemplate t = config.templates().get(kind);
        Map<String, String> request = new LinkedHashMap<>();
        b.properties().forEach(e -> {
            if (CONTROL.contains(e.getKey())) return;
            JsonNode v = e.getValue();
            if (!v.isValueNode() || v.isNull())
                throw new IllegalArgumentException("parameter " + e.getKey() + " must be a string, number or boolean");
            request.put(e.getKey(), v.asText());
        });
        Map<String, String> operator = new LinkedHashMap<>();
        if (t.params().containsKey("host")) operator.put("host", config.serverHost());
        if (config.serverApiKey() != null && !t.putApiKey(operator, config.serverApiKey(), workdir)) {
            throw new IllegalArgumentException(
                    "template " + kind + " has no api_key_file or api_key parameter, so its servers would serve "
                            + config.serverHost() + " without the agent's key");
        }
        LaunchTemplate.Expanded ex = t.expand(operator, request);
        if (ex.ports().contains(0))
            throw new IllegalArgumentException("base_port 0 works only for mock-openai; give a port range");
        String logName = b.path("log_name").asText("agent_" + kind + ".log");
        if (!logName.matches("[A-Za-z0-9._-]{1,128}") || logName.startsWith("."))
            throw new IllegalArgumentException("log_name must be a plain file name");
        return () -> Service.process(ex, workdir, workdir.resolve(logName));
    }

    private synchronized void stopService() {
        if (service != null) {
            service.stop(30);
            service = null;
        }
    }

    @Override
    public void close() {
        heartbeat.shutdownNow();
        stopService();
        app.stop();
    }
}
