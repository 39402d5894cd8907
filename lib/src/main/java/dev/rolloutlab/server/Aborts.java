package dev.rolloutlab.server;

import static dev.rolloutlab.util.Http.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.openai.OpenAiException;
import dev.rolloutlab.util.Http;
import io.javalin.http.Context;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Requests in flight by the {@code rid} their client gave them, so {@code POST /abort_request} (SGLang's shape,
 * {@code {"rid": …}}) can end one: the engine frees its slot at the next step and the request answers with the tokens
 * generated so far, {@code finish_reason: "abort"}. {@code {"abort_all": true}} ends every request and needs the admin
 * token.
 */
final class Aborts {
    private final ConcurrentHashMap<String, CompletableFuture<Completion>> byRid = new ConcurrentHashMap<>();
    private final InProcessEngine engine;
    private final OpenAiServer.Options options;

    Aborts(InProcessEngine engine, OpenAiServer.Options options) {
        this.engine = engine;
        this.options = options;
    }

    /** The request's {@code rid}, checked; null when it has none. */
    static String rid(JsonNode body) {
        JsonNode r = body.get("rid");
        if (r == null || r.isNull()) return null;
        if (!r.isTextual() || !r.asText().matches("[A-Za-z0-9._:-]{1,128}")) {
            throw OpenAiException.badRequest("rid", "rid must be 1-128 characters of A-Za-z0-9._:-");
        }
        return r.asText();
    }

    /**
     * Submits a request and remembers its rid until it ends. The rid is reserved before the engine sees the request, so
     * a second request with a rid already in flight is refused without ever taking a slot.
     */
    CompletableFuture<Completion> track(String rid, Supplier<CompletableFuture<Completion>> submit) {
        if (rid == null) return submit.get();
        CompletableFuture<Completion> reserved = new CompletableFuture<>();
        if (byRid.putIfAbsent(rid, reserved) != null) {
            throw OpenAiException.badRequest("rid", "rid " + rid + " is already in flight; give each request its own");
        }
        CompletableFuture<Completion> f;
        try {
            f = submit.get();
        } catch (RuntimeException e) {
            byRid.remove(rid, reserved);
            throw e;
        }
        byRid.replace(rid, reserved, f);
        f.whenComplete((c, e) -> byRid.remove(rid, f));
        return f;
    }

    void handle(Context ctx) {
        JsonNode b = Http.jsonBody(ctx, 64 << 10);
        if (!b.isObject())
            throw OpenAiException.badRequest(null, "the body must be a JSON object with rid (or abort_all)");
        int n = 0;
        if (b.path("abort_all").asBoolean(false)) {
            if (!Guard.isAdmin(ctx, options))
                throw new OpenAiException(
                        401, "abort_all needs the admin token", "authentication_error", null, "invalid_admin_token");
            for (CompletableFuture<Completion> f : engine.outstanding()) if (engine.abort(f)) n++;
        } else {
            String rid = rid(b);
            if (rid == null)
                throw OpenAiException.badRequest("rid", "rid is required (or abort_all with the admin token)");
            CompletableFuture<Completion> f = byRid.get(rid);
            if (f != null && engine.abort(f)) n++;
        }
        json(ctx, 200, Map.of("ok", true, "aborted", n));
    }
}
