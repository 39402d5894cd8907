package dev.rolloutlab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.util.Http;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.Secrets;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The {@code mock-openai} backend of {@code mock_openai_server}, kept for compatibility with its commander and tests:
 * chat answers echo the last message as {@code "[backend=<id> version=<v>] <content>"}, and {@code /admin/*} bump a
 * version counter. It runs no model; use {@code rollout-lab-serve} for real rollouts.
 */
public final class EchoOpenAiServer implements AutoCloseable {
    private final int backendId;
    private final String modelId;
    private final String apiKey;
    private int version;
    private final Javalin app;

    public EchoOpenAiServer(String host, int port, int backendId, String modelId, String apiKey) {
        this.backendId = backendId;
        this.modelId = modelId;
        this.apiKey = apiKey == null || apiKey.isEmpty() ? null : apiKey;
        this.app = Http.server((status, message) -> Map.of("error", message), cfg -> {
            cfg.http.maxRequestSize = 1 << 20;
            cfg.routes.before(ctx -> {
                if (this.apiKey != null
                        && !Secrets.equal("Bearer " + this.apiKey, ctx.header("Authorization"))
                        && !ctx.path().equals("/health")) {
                    ctx.status(401).json(Map.of("error", "unauthorized"));
                    ctx.skipRemainingHandlers();
                }
            });
            cfg.routes.get("/health", ctx -> ctx.status(200));
            cfg.routes.get(
                    "/v1/models",
                    ctx -> json(
                            ctx, Map.of("object", "list", "data", List.of(Map.of("id", modelId, "object", "model")))));
            cfg.routes.get("/admin/weights_checksum", ctx -> json(ctx, state()));
            cfg.routes.post("/admin/perturb_weights", ctx -> {
                int delta = body(ctx).path("delta").asInt(0);
                synchronized (this) {
                    version += delta == 0 ? 1 : delta;
                }
                json(ctx, state());
            });
            cfg.routes.post("/admin/reload_weights", ctx -> {
                int v = body(ctx).path("version").asInt(0);
                synchronized (this) {
                    version = v;
                }
                json(ctx, state());
            });
            cfg.routes.post("/v1/chat/completions", this::chat);
        });
        app.start(host, port);
    }

    private static JsonNode body(Context ctx) throws com.fasterxml.jackson.core.JsonProcessingException {
        return Json.parse(ctx.body().isBlank() ? "{}" : ctx.body());
    }

    private synchronized Map<String, Object> state() {
        return Map.of("ok", true, "version", version, "checksum", version * 0.1234567);
    }

    private void json(Context ctx, Object body) {
        ctx.header("X-Backend-Id", String.valueOf(backendId))
                .contentType("application/json; charset=utf-8")
                .result(Json.bytes(body));
    }

    private void chat(Context ctx) throws Exception {
        JsonNode b = body(ctx);
        JsonNode msgs = b.path("messages");
        JsonNode last = msgs.isArray() && !msgs.isEmpty() ? msgs.get(msgs.size() - 1) : null;
        String content = last != null && last.isObject() ? last.path("content").asText("") : "";
        int v;
        synchronized (this) {
            v = version;
        }
        ctx.header("X-Weights-Version", String.valueOf(v));
        json(
                ctx,
                Map.of(
                        "id",
                        "mockcmpl-"
                                + UUID.randomUUID().toString().replace("-", "").substring(0, 12),
                        "object",
                        "chat.completion",
                        "created",
                        System.currentTimeMillis() / 1000,
                        "model",
                        modelId,
                        "choices",
                        List.of(Map.of(
                                "index",
                                0,
                                "message",
                                Map.of(
                                        "role",
                                        "assistant",
                                        "content",
                                        ("[backend=" + backendId + " version=" + v + "] " + content).trim()),
                                "finish_reason",
                                "stop"))));
    }

    public int port() {
        return app.port();
    }

    @Override
    public void close() {
        app.stop();
    }
}
