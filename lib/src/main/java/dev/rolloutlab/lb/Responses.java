package dev.rolloutlab.lb;

import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** The balancer's own answers: OpenAI-style JSON errors and small JSON or text bodies, written in one pass. */
final class Responses {
    private Responses() {}

    /**
     * {@code {"error":{"message","type","param","code"}}}, plus any extra top-level fields
     * ({@code openai_load_balancer}'s 502 "detail").
     */
    static Map<String, Object> error(String message, String type, String code, Map<String, Object> extra) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("message", message);
        e.put("type", type);
        e.put("param", null);
        e.put("code", code);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", e);
        body.putAll(extra);
        return body;
    }

    static void error(OutputStream out, int status, String message, String code, boolean keep) throws IOException {
        String type = switch (status) {
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 413 -> "request_too_large";
            case 502, 503, 504 -> "service_unavailable";
            default -> "invalid_request_error";
        };
        json(out, status, error(message, type, code, Map.of()), keep);
    }

    static void json(OutputStream out, int status, Object json, boolean keep) throws IOException {
        bytes(out, status, "application/json", Json.bytes(json), keep);
    }

    static void bytes(OutputStream out, int status, String contentType, byte[] body, boolean keep) throws IOException {
        StringBuilder sb = new StringBuilder(128)
                .append("HTTP/1.1 ")
                .append(status)
                .append(' ')
                .append(reason(status))
                .append("\r\n");
        if (contentType != null) sb.append("Content-Type: ").append(contentType).append("\r\n");
        sb.append("Content-Length: ").append(body.length).append("\r\n");
        if (!keep) sb.append("Connection: close\r\n");
        out.write(sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
    }

    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 413 -> "Content Too Large";
            case 501 -> "Not Implemented";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> "Status";
        };
    }
}
