package dev.rolloutlab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.util.Json;
import static dev.rolloutlab.util.Http.json;
import io.javalin.Javalin;
import io.javalin.http.Context;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The worker agent: the seed's endpoints ({@code /health}, {@code /admin/status|start|stop}), but every admin call
 * needs the bearer token, and a start names a template from the agent's own configuration with parameters — it
 * never carries a command. It runs at most one service and stops it when it stops.
 */
public final class Agent implements AutoCloseable {
    private static final Set<String> CONTROL = Set.of("kind", "force", "log_name");
    private static final Set<String> FORBIDDEN = Set.of("command", "cmd", "args", "argv", "shell", "exec", "script");

    private final Path workdir;
    private final String token;
    private final Map<String, LaunchTemplate> templates;
    private final Javalin app;
    private Service service;
    private final ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("agent-heartbeat").daemon(true).factory());
    private final String host;

    public Agent(String host, int port, Path workdir, String token, Map<String, LaunchTemplate> templates) {
        if (token == null || token.isBlank()) throw new IllegalArgumentException("the agent needs a token (--token-file)");
        this.host = host;
        this.workdir = workdir.toAbsolutePath();
        this.token = token;
        this.templates = templates;
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.routes.before("/admin/*", ctx -> {
                if (!("Bearer " + token).equals(ctx.header("Authorization"))) {
                    json(ctx, 401, Map.of("ok", false, "error", "unauthorized: Authorization: Bearer <agent token> required"));
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
            cfg.routes.error(404, ctx -> {
                if (ctx.result() == null) json(ctx, 404, Map.of("ok", false, "error", "unknown path: " + ctx.path()));
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

    /** Registers this agent's backends with a commander registry every {@code ttl/3}, so they expire if it dies. */
    public void registerWith(String registryUrl, String advertiseHost, Duration ttl) {
        OpenAiClient c = new OpenAiClient(OpenAiClient.http(1, Duration.ofSeconds(5)), registryUrl, token, true);
        long every = Math.max(1, ttl.toMillis() / 3);
        heartbeat.scheduleWithFixedDelay(() -> {
            Service s = current();
            if (s == null || !s.alive()) return;
            List<String> backends = s.ports().stream().map(p -> advertiseHost + ":" + p).toList();
            c.post("/register", Map.of("backends", backends, "ttl_sec", ttl.toMillis() / 1000.0), Map.of());
        }, 0, every, TimeUnit.MILLISECONDS);
    }

    private synchronized Service current() {
        return service;
    }

    private synchronized Map<String, Object> status() {
        if (service == null) return Map.of("ok", true, "running", false);
        return service.status();
    }

    private void start(Context ctx) {
        JsonNode b;
        try {
            b = Json.parse(ctx.body().isBlank() ? "{}" : ctx.body());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            json(ctx, 400, Map.of("ok", false, "error", "Invalid JSON: " + e.getOriginalMessage()));
            return;
        }
        for (String f : FORBIDDEN) {
            if (b.has(f)) {
                json(ctx, 400, Map.of("ok", false, "error", "start requests name a template 'kind' and its parameters; they never carry a command ('"
                        + f + "' refused)"));
                return;
            }
        }
        String kind = b.path("kind").asText("");
        if (kind.isEmpty()) {
            json(ctx, 400, Map.of("ok", false, "error", "kind is required"));
            return;
        }
        if (!kind.equals("mock-openai") && !templates.containsKey(kind)) {
            json(ctx, 400, Map.of("ok", false, "error", "unsupported kind: '" + kind + "'"));
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
                service = kind.equals("mock-openai") ? mock(b) : process(kind, b);
                json(ctx, 200, service.startReply());
            } catch (RuntimeException e) {
                json(ctx, 400, Map.of("ok", false, "error", String.valueOf(e.getMessage())));
            }
        }
    }

    private static Service mock(JsonNode b) {
        // the seed's quirk: a falsy number means the default
        int n = b.path("num_servers").asInt(0) > 0 ? b.path("num_servers").asInt() : 4;
        return Service.mock(b.path("host").asText("127.0.0.1"), n, b.path("base_port").asInt(0), b.path("model_id").asText("mock-model"),
                b.path("api_key").asText(""), 0);
    }

    private Service process(String kind, JsonNode b) {
        Map<String, String> params = new LinkedHashMap<>();
        b.fields().forEachRemaining(e -> {
            if (CONTROL.contains(e.getKey())) return;
            JsonNode v = e.getValue();
            if (v.isBoolean()) params.put(e.getKey(), v.asBoolean() ? "--" + e.getKey().replace('_', '-') : "");
            else if (v.isValueNode()) params.put(e.getKey(), v.asText());
            else throw new IllegalArgumentException("parameter " + e.getKey() + " must be a string, number or boolean");
        });
        LaunchTemplate.Expanded ex = templates.get(kind).expand(params);
        if (ex.ports().contains(0)) throw new IllegalArgumentException("base_port 0 works only for mock-openai; give a port range");
        String logName = b.path("log_name").asText("agent_" + kind + ".log");
        if (!logName.matches("[A-Za-z0-9._-]+")) throw new IllegalArgumentException("log_name must be a plain file name");
        return Service.process(ex, workdir, workdir.resolve(logName));
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
