package dev.rolloutlab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.util.Json;
import static dev.rolloutlab.util.Http.json;
import io.javalin.Javalin;
import io.javalin.http.Context;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The commander's registry: {@code GET /backends} lists the static backends (in start order) followed by those that
 * registered themselves and are still within their heartbeat TTL. Registration needs the agent token when one is set.
 */
public final class RegistryServer implements AutoCloseable {
    private final String model;
    private final List<String> fixed = new ArrayList<>();
    /** backend → expiry (nanoTime); insertion order is registration order. */
    private final Map<String, Long> registered = new LinkedHashMap<>();
    private final Duration ttl;
    private final String token;
    private final Javalin app;
    private final String host;

    public RegistryServer(String host, int port, String model, List<String> backends, Duration ttl, String token) {
        this.model = model;
        this.fixed.addAll(backends);
        this.ttl = ttl;
        this.token = token;
        this.host = host;
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.routes.get("/health", ctx -> ctx.status(200));
            cfg.routes.get("/backends", this::backends);
            cfg.routes.post("/register", ctx -> change(ctx, true));
            cfg.routes.post("/deregister", ctx -> change(ctx, false));
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
        String h = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
        return "http://" + h + ":" + port();
    }

    public synchronized List<String> backendList() {
        long now = System.nanoTime();
        registered.values().removeIf(exp -> exp < now);
        List<String> all = new ArrayList<>(fixed);
        for (String b : registered.keySet()) if (!all.contains(b)) all.add(b);
        return all;
    }

    private void backends(Context ctx) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("ok", true);
        r.put("model", model);
        r.put("backends", backendList());
        json(ctx, 200, r);
    }

    private void change(Context ctx, boolean add) {
        if (token != null) {
            String a = ctx.header("Authorization");
            if (a == null || !a.equals("Bearer " + token)) {
                json(ctx, 401, Map.of("ok", false, "error", "unauthorized: registration needs the agent token"));
                return;
            }
        }
        JsonNode b;
        try {
            b = Json.parse(ctx.body().isBlank() ? "{}" : ctx.body());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            json(ctx, 400, Map.of("ok", false, "error", "Invalid JSON: " + e.getOriginalMessage()));
            return;
        }
        if (!b.path("backends").isArray() || b.path("backends").isEmpty()) {
            json(ctx, 400, Map.of("ok", false, "error", "backends must be a non-empty array of host:port"));
            return;
        }
        double ttlSec = b.path("ttl_sec").asDouble(ttl.toMillis() / 1000.0);
        synchronized (this) {
            for (JsonNode n : b.path("backends")) {
                if (add) registered.put(n.asText(), System.nanoTime() + (long) (ttlSec * 1e9));
                else {
                    registered.remove(n.asText());
                    fixed.remove(n.asText());
                }
            }
        }
        json(ctx, 200, Map.of("ok", true, "backends", backendList()));
    }


    @Override
    public void close() {
        app.stop();
    }
}
