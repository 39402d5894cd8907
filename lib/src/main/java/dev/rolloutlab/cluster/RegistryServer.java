package dev.rolloutlab.cluster;

import static dev.rolloutlab.util.Http.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.util.HostPort;
import dev.rolloutlab.util.Http;
import dev.rolloutlab.util.Secrets;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The commander's registry: {@code GET /backends} lists the static backends (in start order) followed by those that
 * registered themselves and are still within their heartbeat TTL. Writes ({@code /register}, {@code /deregister}) need
 * the registry token and are refused outright when the registry has none: whoever writes here chooses where every
 * balancer that follows it sends prompts and API keys.
 */
public final class RegistryServer implements AutoCloseable {
    /** Longest registration TTL a writer may ask for; a dead agent's entries are gone within this. */
    public static final double MAX_TTL_SEC = 300;

    static final int MAX_BACKENDS_PER_WRITE = 1024;
    /** Entries in all, and entries one writer's address may hold: a pod is hundreds of ports, not tens of thousands. */
    public static final int MAX_ENTRIES = 8192, MAX_ENTRIES_PER_WRITER = 4096;

    private static final long MAX_BODY = 256 << 10;

    /**
     * One registered backend: when it expires, the API key it wants (published only to token holders), who wrote it.
     */
    private record Entry(long expiresNs, String apiKey, String writer) {}

    private final String model;
    private final List<String> fixed = new ArrayList<>();
    private final Map<String, String> fixedKeys;
    /** backend → entry; insertion order is registration order. */
    private final Map<String, Entry> registered = new LinkedHashMap<>();

    private final Duration ttl;
    private final String token;
    private final Javalin app;
    private final String host;

    public RegistryServer(String host, int port, String model, List<String> backends, Duration ttl, String token) {
        this(host, port, model, backends, Map.of(), ttl, token);
    }

    /** {@code apiKeys} maps static backends to the key they require; it is shown only to callers with the token. */
    public RegistryServer(
            String host,
            int port,
            String model,
            List<String> backends,
            Map<String, String> apiKeys,
            Duration ttl,
            String token) {
        this.model = model;
        for (String b : backends) fixed.add(HostPort.check(b));
        this.fixedKeys = Map.copyOf(apiKeys);
        this.ttl = ttl;
        this.token = token == null || token.isBlank() ? null : token;
        this.host = host;
        this.app = Http.server((status, message) -> Map.of("ok", false, "error", message), cfg -> {
            cfg.http.maxRequestSize = MAX_BODY;
            cfg.routes.get("/health", ctx -> ctx.status(200));
            cfg.routes.get("/backends", this::backends);
            cfg.routes.post("/register", ctx -> change(ctx, true));
            cfg.routes.post("/deregister", ctx -> change(ctx, false));
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

    /** Static backends, then registered ones still within their TTL, each once; linear in the entries. */
    public synchronized List<String> backendList() {
        long now = System.nanoTime();
        registered.values().removeIf(e -> e.expiresNs() < now);
        LinkedHashSet<String> all = new LinkedHashSet<>(fixed);
        all.addAll(registered.keySet());
        return new ArrayList<>(all);
    }

    private synchronized Map<String, String> apiKeys() {
        Map<String, String> keys = new LinkedHashMap<>(fixedKeys);
        registered.forEach((b, e) -> {
            if (e.apiKey() != null) keys.put(b, e.apiKey());
        });
        return keys;
    }

    private boolean authorized(Context ctx) {
        return token != null && Secrets.equal("Bearer " + token, ctx.header("Authorization"));
    }

    private void backends(Context ctx) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("ok", true);
        r.put("model", model);
        r.put("backends", backendList());
        if (authorized(ctx)) {
            Map<String, String> keys = apiKeys();
            keys.keySet().retainAll(new HashSet<>(backendList()));
            if (!keys.isEmpty()) r.put("api_keys", keys);
        }
        json(ctx, 200, r);
    }

    private void change(Context ctx, boolean add) {
        if (token == null) {
            json(
                    ctx,
                    403,
                    Map.of(
                            "ok",
                            false,
                            "error",
                            "registry writes are disabled: this registry has no token "
                                    + "(start the commander with --registry-token-file or --agent-token-file)"));
            return;
        }
        if (!authorized(ctx)) {
            json(
                    ctx,
                    401,
                    Map.of(
                            "ok",
                            false,
                            "error",
                            "unauthorized: registry writes need Authorization: Bearer <registry token>"));
            return;
        }
        JsonNode b = Http.jsonBody(ctx, MAX_BODY);
        JsonNode list = b.path("backends");
        if (!list.isArray() || list.isEmpty() || list.size() > MAX_BACKENDS_PER_WRITE) {
            json(
                    ctx,
                    400,
                    Map.of(
                            "ok",
                            false,
                            "error",
                            "backends must be an array of 1 to " + MAX_BACKENDS_PER_WRITE + " host:port strings"));
            return;
        }
        List<String> entries = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode n = list.get(i);
            try {
                if (!n.isTextual())
                    throw new IllegalArgumentException("expected a host:port string, got " + n.getNodeType());
                entries.add(HostPort.check(n.asText()));
            } catch (IllegalArgumentException e) {
                // nothing of a write with a bad entry is applied, so one bad entry never changes the list
                json(ctx, 400, Map.of("ok", false, "error", "backends[" + i + "]: " + e.getMessage()));
                return;
            }
        }
        double ttlSec = ttl.toMillis() / 1000.0;
        if (b.has("ttl_sec")) {
            JsonNode t = b.get("ttl_sec");
            if (!t.isNumber() || !(t.asDouble() > 0) || t.asDouble() > MAX_TTL_SEC) {
                json(
                        ctx,
                        400,
                        Map.of(
                                "ok",
                                false,
                                "error",
                                "ttl_sec must be a number in (0, " + (int) MAX_TTL_SEC + "], got " + t));
                return;
            }
            ttlSec = t.asDouble();
        }
        String apiKey = null;
        if (b.hasNonNull("api_key")) {
            if (!b.get("api_key").isTextual() || b.get("api_key").asText().length() > 512) {
                json(ctx, 400, Map.of("ok", false, "error", "api_key must be a string of at most 512 characters"));
                return;
            }
            apiKey = b.get("api_key").asText().isEmpty()
                    ? null
                    : b.get("api_key").asText();
        }
        String writer = ctx.ip();
        synchronized (this) {
            if (add) {
                long now = System.nanoTime();
                registered.values().removeIf(e -> e.expiresNs() < now);
                int fresh = 0, mine = 0;
                for (String e : entries) if (!registered.containsKey(e)) fresh++;
                for (Entry e : registered.values()) if (e.writer().equals(writer)) mine++;
                if (fixed.size() + registered.size() + fresh > MAX_ENTRIES || mine + fresh > MAX_ENTRIES_PER_WRITER) {
                    json(
                            ctx,
                            429,
                            Map.of(
                                    "ok",
                                    false,
                                    "error",
                                    "registry full: at most " + MAX_ENTRIES + " entries in all and "
                                            + MAX_ENTRIES_PER_WRITER
                                            + " per writer; deregister some, or let their TTL expire"));
                    return;
                }
            }
            for (String e : entries) {
                if (add) registered.put(e, new Entry(System.nanoTime() + (long) (ttlSec * 1e9), apiKey, writer));
                else {
                    registered.remove(e);
                    fixed.remove(e);
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
