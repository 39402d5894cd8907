package dev.rolloutlab.util;

import io.javalin.Javalin;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * The one set-up of our Javalin servers and the one way they answer with JSON: every error, down to Jetty's own answer
 * to a malformed request line, is a JSON body in the server's error shape, and bodies are read with a cap.
 */
public final class Http {
    private Http() {}

    /** An error to answer with {@code status}; each server renders it in its own error shape. */
    public static final class Error extends RuntimeException {
        public final int status;

        public Error(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    public static void json(Context ctx, int status, Object body) {
        ctx.status(status).contentType("application/json; charset=utf-8").result(Json.bytes(body));
    }

    /**
     * A Javalin app with virtual threads, no banner, 405 for a known path with the wrong method, and JSON bodies from
     * {@code errorBody(status, message)} for 404, 405, {@link Error} and protocol errors. Routes come from
     * {@code routes}.
     */
    public static Javalin server(BiFunction<Integer, String, Object> errorBody, Consumer<JavalinConfig> routes) {
        return Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.http.prefer405over404 = true;
            cfg.jetty.modifyServer(s -> s.setErrorHandler(new JsonErrorHandler(errorBody)));
            routes.accept(cfg);
            cfg.routes.exception(
                    Error.class, (e, ctx) -> json(ctx, e.status, errorBody.apply(e.status, e.getMessage())));
            cfg.routes.error(404, ctx -> {
                if (!isJson(ctx))
                    json(ctx, 404, errorBody.apply(404, "unknown path: " + ctx.path())); // a handler's own 404 stays
            });
            cfg.routes.error(
                    405,
                    ctx -> json(
                            ctx,
                            405,
                            errorBody.apply(405, "method " + ctx.method() + " is not allowed on " + ctx.path())));
        });
    }

    private static boolean isJson(Context ctx) {
        String t = ctx.res().getContentType();
        return t != null && t.startsWith("application/json");
    }

    /**
     * The request body, refused with 413 past {@code limit} bytes whether the client declared its length or streams it
     * chunked; nothing past the limit is buffered.
     */
    public static byte[] body(Context ctx, long limit) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > limit) throw tooLarge(declared, limit);
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
            if (b.length > limit) throw tooLarge(-1, limit);
            return b;
        } catch (IOException e) {
            throw new Error(400, "cannot read the request body: " + e.getMessage());
        }
    }

    /** The request body as JSON ({@code {}} when empty), capped at {@code limit}; malformed JSON is a 400. */
    public static com.fasterxml.jackson.databind.JsonNode jsonBody(Context ctx, long limit) {
        String text = new String(body(ctx, limit), java.nio.charset.StandardCharsets.UTF_8);
        try {
            return Json.parse(text.isBlank() ? "{}" : text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new Error(400, "Invalid JSON: " + e.getOriginalMessage());
        }
    }

    private static Error tooLarge(long declared, long limit) {
        return new Error(
                413,
                "request body " + (declared >= 0 ? "of " + declared + " bytes " : "") + "exceeds the limit of " + limit
                        + " bytes");
    }

    /** Jetty's errors (bad request line, header too large, …) in the server's JSON shape instead of an HTML page. */
    private static final class JsonErrorHandler extends ErrorHandler {
        private final BiFunction<Integer, String, Object> body;

        JsonErrorHandler(BiFunction<Integer, String, Object> body) {
            this.body = body;
        }

        @Override
        protected void generateResponse(
                Request request, Response response, int code, String message, Throwable cause, Callback callback) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
            response.write(
                    true,
                    ByteBuffer.wrap(Json.bytes(body.apply(code, message == null ? "HTTP " + code : message))),
                    callback);
        }

        // still how Jetty 12 asks for a bad request's body (its replacement is not wired in yet): JSON, not HTML
        @Override
        @SuppressWarnings("removal")
        public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
            fields.put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
            return ByteBuffer.wrap(Json.bytes(body.apply(status, reason == null ? "bad request" : reason)));
        }
    }
}
