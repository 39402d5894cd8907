package dev.rolloutlab.server;

import dev.rolloutlab.openai.OpenAiException;
import dev.rolloutlab.util.Secrets;
import io.javalin.http.Context;

/**
 * What every request passes before its route: the admin token on {@code /admin/*}; on {@code /metrics} the admin token
 * or the API key (open when neither is set, or with {@code --public-metrics}); the API key elsewhere (but
 * {@code /health}); and the update window, during which completions get 503 with {@code Retry-After}.
 */
final class Guard {
    private Guard() {}

    static void check(Context ctx, OpenAiServer.Options options, WeightAdmin admin) {
        String path = ctx.path();
        if (path.startsWith("/admin/")) {
            if (!options.enableWeightReload()) return; // unknown path: 404
            if (!isAdmin(ctx, options)) {
                throw new OpenAiException(
                        401,
                        "admin endpoints need the admin token (X-Admin-Token or Authorization: Bearer)",
                        "authentication_error",
                        null,
                        "invalid_admin_token");
            }
            return;
        }
        if (path.equals("/health") || ctx.method().name().equals("OPTIONS")) return;
        if (path.equals("/metrics")) {
            boolean open = options.publicMetrics() || options.adminToken() == null && options.apiKey() == null;
            if (!open
                    && !isAdmin(ctx, options)
                    && !(options.apiKey() != null && Secrets.equal(options.apiKey(), bearer(ctx))))
                throw new OpenAiException(
                        401,
                        "/metrics needs the admin token or the API key (or serve --public-metrics)",
                        "authentication_error",
                        null,
                        "invalid_api_key");
            return;
        }
        if (options.apiKey() != null && !Secrets.equal(options.apiKey(), bearer(ctx))) {
            throw new OpenAiException(
                    401,
                    "missing or wrong API key (Authorization: Bearer <key>)",
                    "authentication_error",
                    null,
                    "invalid_api_key");
        }
        if (admin != null && admin.reloading() && !path.equals("/abort_request")) {
            ctx.header("Retry-After", "1");
            throw new OpenAiException(
                    503, "weights are being updated; retry shortly", "service_unavailable", null, "weights_updating");
        }
    }

    /** Whether the request carries this server's admin token (none configured: nobody is admin). */
    static boolean isAdmin(Context ctx, OpenAiServer.Options options) {
        String token = ctx.header("X-Admin-Token");
        if (token == null) token = bearer(ctx);
        return options.adminToken() != null && Secrets.equal(options.adminToken(), token);
    }

    private static String bearer(Context ctx) {
        String a = ctx.header("Authorization");
        return a != null && a.startsWith("Bearer ") ? a.substring(7).trim() : null;
    }
}
