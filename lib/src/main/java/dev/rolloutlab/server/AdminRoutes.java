package dev.rolloutlab.server;

import static dev.rolloutlab.util.Http.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.checkpoint.ModelFormatException;
import dev.rolloutlab.engine.model.VersionConflict;
import dev.rolloutlab.util.Http;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.Map;

/**
 * The weight endpoints of one port ({@code --enable-weight-reload}), answered in the admin shape of sglang-jax's weight
 * tooling {@code {"ok":…}}; the server's guard has already checked the admin token.
 */
final class AdminRoutes {
    private AdminRoutes() {}

    /**
     * {@code extension}: a feature's own admin routes for this port (behind {@code adminToken}), or null; {@code link}:
     * a simulated host's link, which {@code /admin/sim_link} reads and sets, or null.
     */
    private static Map<String, Object> linkState(LinkDelay link) {
        LinkDelay.TimerError t = link.timerError();
        return Map.of(
                "ok", true,
                "rtt_ms", link.rttMs(),
                "jitter_ms", link.jitterMs(),
                "timer_waits", t.waits(),
                "timer_late_median_us", t.medianUs(),
                "timer_late_p99_us", t.p99Us());
    }

    static void add(
            JavalinConfig cfg,
            WeightAdmin admin,
            Limits limits,
            String adminToken,
            AdminExtension extension,
            LinkDelay link) {
        if (link != null) {
            cfg.routes.get("/admin/sim_link", ctx -> json(ctx, 200, linkState(link)));
            cfg.routes.post("/admin/sim_link", ctx -> {
                JsonNode b = adminBody(ctx);
                try {
                    link.set(
                            b.path("rtt_ms").asDouble(Double.NaN),
                            b.path("jitter_ms").asDouble(0));
                } catch (IllegalArgumentException e) {
                    throw new AdminError(400, e.getMessage());
                }
                json(ctx, 200, linkState(link));
            });
        }
        cfg.routes.get("/admin/reload_status", ctx -> json(ctx, 200, admin.status()));
        cfg.routes.get("/admin/weights_checksum", ctx -> json(ctx, 200, admin.checksum()));
        cfg.routes.post("/admin/perturb_weights", ctx -> perturb(ctx, admin));
        cfg.routes.post("/admin/reload_weights", ctx -> reload(ctx, admin));
        cfg.routes.post(
                "/admin/update_weights",
                ctx -> json(
                        ctx,
                        200,
                        admin.update(
                                Http.body(ctx, limits.maxUpdateBytes()),
                                baseVersion(ctx),
                                drain(ctx.header("X-Drain-Ms"), "X-Drain-Ms header", admin))));
        if (extension != null) {
            extension.addRoutes(cfg, new AdminExtension.Port() {
                @Override
                public Map<String, Object> installSimulated(byte[] body, String sha256) {
                    return admin.simInstall(body, sha256);
                }

                @Override
                public String adminToken() {
                    return adminToken;
                }

                @Override
                public long maxBytes() {
                    return limits.maxUpdateBytes();
                }
            });
        }
        cfg.routes.post("/admin/stage_weights", ctx -> {
            String id = stageId(ctx.header("X-Stage-Id"), "X-Stage-Id header");
            String sha = ctx.header("X-Payload-Sha256");
            if (sha != null && !sha.matches("[0-9a-fA-F]{64}"))
                throw new AdminError(400, "X-Payload-Sha256 must be 64 hex digits");
            json(ctx, 200, admin.stage(id, Http.body(ctx, limits.maxUpdateBytes()), sha, baseVersion(ctx)));
        });
        cfg.routes.post("/admin/commit_weights", ctx -> {
            JsonNode b = adminBody(ctx);
            JsonNode d = b.get("drain_ms");
            json(
                    ctx,
                    200,
                    admin.commit(
                            stageId(b.path("stage_id").asText(null), "stage_id"),
                            drain(d == null || d.isNull() ? null : d.asText(), "drain_ms", admin)));
        });
        cfg.routes.post("/admin/abort_weights", ctx -> {
            String id = adminBody(ctx).path("stage_id").asText(null);
            json(ctx, 200, admin.abort(id == null ? null : stageId(id, "stage_id")));
        });
        cfg.routes.exception(
                VersionConflict.class, (e, ctx) -> json(ctx, 409, Map.of("ok", false, "error", e.getMessage())));
        cfg.routes.exception(
                AdminError.class, (e, ctx) -> json(ctx, e.status, Map.of("ok", false, "error", e.getMessage())));
        cfg.routes.exception(
                WeightAdmin.TimedOut.class, (e, ctx) -> json(ctx, 504, Map.of("ok", false, "error", e.getMessage())));
        cfg.routes.exception(
                ModelFormatException.class, (e, ctx) -> json(ctx, 400, Map.of("ok", false, "error", e.getMessage())));
    }

    /** A client-chosen stage id: short and plain, since it is echoed and logged. */
    private static String stageId(String id, String what) {
        if (id == null || !id.matches("[A-Za-z0-9._-]{1,64}"))
            throw new AdminError(400, what + " must be 1-64 characters of A-Za-z0-9._-");
        return id;
    }

    /** {@code X-Base-Version}: the version a change was made for; null when the client does not say. */
    private static Long baseVersion(Context ctx) {
        String v = ctx.header("X-Base-Version");
        if (v == null) return null;
        try {
            long x = Long.parseLong(v.trim());
            if (x < 0) throw new NumberFormatException();
            return x;
        } catch (NumberFormatException e) {
            throw new AdminError(400, "X-Base-Version must be a non-negative integer, got " + v);
        }
    }

    /** How long a change may wait for requests in flight before it aborts them; null: no drain. */
    private static Duration drain(String ms, String what, WeightAdmin admin) {
        if (ms == null) return null;
        long max = admin.maxDrain().toMillis();
        try {
            long x = Long.parseLong(ms.trim());
            if (x < 0 || x > max) throw new NumberFormatException();
            return Duration.ofMillis(x);
        } catch (NumberFormatException e) {
            throw new AdminError(
                    400,
                    what + " must be an integer from 0 to " + max + " (half the server's reload timeout), got " + ms);
        }
    }

    private static JsonNode adminBody(Context ctx) {
        try {
            return Http.jsonBody(ctx, 64 << 10);
        } catch (Http.Error e) {
            throw new AdminError(e.status, e.getMessage());
        }
    }

    private static void perturb(Context ctx, WeightAdmin admin) {
        JsonNode b = adminBody(ctx);
        JsonNode nl = b.get("num_leaves");
        if (nl != null && !nl.isNull() && !nl.canConvertToInt())
            throw new AdminError(400, "num_leaves must be an integer or null");
        if (b.has("scale") && !b.get("scale").isNumber()) throw new AdminError(400, "scale must be a number");
        if (b.has("seed") && !b.get("seed").canConvertToLong()) throw new AdminError(400, "seed must be an integer");
        json(
                ctx,
                200,
                admin.perturb(
                        b.path("seed").asLong(0),
                        b.path("scale").asDouble(1e-3),
                        nl == null || nl.isNull() ? null : nl.asInt()));
    }

    private static void reload(Context ctx, WeightAdmin admin) {
        JsonNode b = adminBody(ctx);
        String path = b.path("model_path").asText("");
        if (path.isBlank()) throw new AdminError(400, "model_path is required");
        if (path.length() > 4096 || path.indexOf('\0') >= 0)
            throw new AdminError(400, "model_path must be a path of at most 4096 characters without NUL");
        json(ctx, 200, admin.reload(path));
    }
}
