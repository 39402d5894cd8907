package dev.rolloutlab.server;

import dev.rolloutlab.openai.OpenAiException;

/** Every error serve answers, in OpenAI's shape {@code {"error":{"message","type","param","code"}}}. */
final class OpenAiErrors {
    private OpenAiErrors() {}

    /** OpenAI's error shape for every status, so a client parses any answer the same way. */
    static Object body(int status, String message) {
        String type = switch (status) {
            case 401 -> "authentication_error";
            case 404 -> "not_found_error";
            case 405 -> "method_not_allowed";
            case 413 -> "request_too_large";
            default -> status >= 500 ? "internal_error" : "invalid_request_error";
        };
        return new OpenAiException(status, message, type, null, null).body();
    }
}
