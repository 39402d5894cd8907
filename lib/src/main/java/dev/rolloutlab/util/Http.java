package dev.rolloutlab.util;

import io.javalin.http.Context;

/** The one way our Javalin servers answer with JSON. */
public final class Http {
    private Http() {
    }

    public static void json(Context ctx, int status, Object body) {
        ctx.status(status).contentType("application/json; charset=utf-8").result(Json.bytes(body));
    }
}
