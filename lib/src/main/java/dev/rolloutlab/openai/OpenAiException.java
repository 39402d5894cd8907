package dev.rolloutlab.openai;

import java.util.LinkedHashMap;
import java.util.Map;

/** An error to answer with OpenAI's body {@code {"error":{"message","type","param","code"}}} and an HTTP status. */
public class OpenAiException extends RuntimeException {
    public final int status;
    public final String type;
    public final String param;
    public final String code;

    public OpenAiException(int status, String message, String type, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    public static OpenAiException badRequest(String param, String message) {
        return new OpenAiException(400, message, "invalid_request_error", param, null);
    }

    public Map<String, Object> body() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("message", getMessage());
        e.put("type", type);
        e.put("param", param);
        e.put("code", code);
        return Map.of("error", e);
    }
}
