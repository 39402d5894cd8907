package dev.rolloutlab.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.SamplingParams;
import dev.rolloutlab.engine.tokenizer.ChatTemplate;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads an incoming completion request, checking every field's type and range as it goes; an error names the field
 * (OpenAI's {@code param}) and says what it must be, so a bad request is a 400 and never a 5xx or a wrapped value.
 */
public final class RequestParser {
    private RequestParser() {}

    public static CompletionRequest parse(JsonNode body, CompletionRequest.Endpoint endpoint) {
        if (body == null || !body.isObject())
            throw OpenAiException.badRequest(null, "request body must be a JSON object");
        String model = optText(body, "model");
        List<ChatTemplate.Message> messages = null;
        String prompt = null;
        int[] ids = null;
        if (endpoint == CompletionRequest.Endpoint.CHAT) {
            JsonNode m = body.get("messages");
            if (m == null || !m.isArray() || m.isEmpty())
                throw OpenAiException.badRequest("messages", "messages must be a non-empty array");
            messages = new ArrayList<>();
            for (int i = 0; i < m.size(); i++) {
                JsonNode e = m.get(i);
                if (!e.isObject())
                    throw OpenAiException.badRequest(
                            "messages[" + i + "]", "each message must be an object with role and content");
                String role = e.path("role").asText("");
                if (role.isEmpty()) throw OpenAiException.badRequest("messages[" + i + "].role", "role is required");
                messages.add(new ChatTemplate.Message(role, contentText(e.get("content"), i)));
            }
        } else {
            JsonNode p = body.get("prompt");
            if (p == null || p.isNull()) throw OpenAiException.badRequest("prompt", "prompt is required");
            if (p.isTextual()) prompt = p.asText();
            else if (p.isArray() && !p.isEmpty() && p.get(0).isInt()) {
                ids = new int[p.size()];
                for (int i = 0; i < ids.length; i++) {
                    if (!p.get(i).isInt())
                        throw OpenAiException.badRequest("prompt", "a token prompt must be an array of integers");
                    ids[i] = p.get(i).asInt();
                }
            } else if (p.isArray() && p.size() == 1 && p.get(0).isTextual())
                prompt = p.get(0).asText();
            else
                throw OpenAiException.badRequest(
                        "prompt", "prompt must be a string, a one-string array, or an array of token ids");
        }
        String maxField = body.has("max_completion_tokens")
                        && !body.get("max_completion_tokens").isNull()
                ? "max_completion_tokens"
                : "max_tokens";
        int maxTokens =
                intField(body, maxField, CompletionRequest.DEFAULT_MAX_TOKENS, 1, CompletionRequest.MAX_TOKENS_LIMIT);
        double temperature = numField(body, "temperature", 1.0);
        if (!(temperature == 0 || temperature >= SamplingParams.MIN_TEMPERATURE && temperature <= 2)) {
            throw OpenAiException.badRequest(
                    "temperature",
                    "temperature must be 0 (greedy) or in [" + SamplingParams.MIN_TEMPERATURE + ", 2], got "
                            + temperature);
        }
        double topP = numField(body, "top_p", 1.0);
        if (!(topP > 0 && topP <= 1)) throw OpenAiException.badRequest("top_p", "top_p must be in (0, 1], got " + topP);
        int topK = intField(body, "top_k", 0, -1, 1 << 20);
        int n = intField(body, "n", 1, 1, 128);
        Long seed = body.hasNonNull("seed") ? (long) intLike(body, "seed") : null;
        List<String> stop = new ArrayList<>();
        JsonNode st = body.get("stop");
        if (st != null && !st.isNull()) {
            if (st.isTextual()) stop.add(st.asText());
            else if (st.isArray()) {
                for (JsonNode s : st) {
                    if (!s.isTextual())
                        throw OpenAiException.badRequest("stop", "stop must be a string or an array of strings");
                    stop.add(s.asText());
                }
            } else throw OpenAiException.badRequest("stop", "stop must be a string or an array of strings");
            if (stop.size() > SamplingParams.MAX_STOP_STRINGS) {
                throw OpenAiException.badRequest(
                        "stop",
                        "stop takes at most " + SamplingParams.MAX_STOP_STRINGS + " strings, got " + stop.size());
            }
            for (String s : stop) {
                if (s.length() > SamplingParams.MAX_STOP_CHARS) {
                    throw OpenAiException.badRequest(
                            "stop",
                            "each stop string takes at most " + SamplingParams.MAX_STOP_CHARS + " characters, got "
                                    + s.length());
                }
            }
        }
        List<Integer> stopIds = new ArrayList<>();
        JsonNode sti = body.get("stop_token_ids");
        if (sti != null && !sti.isNull()) {
            if (!sti.isArray())
                throw OpenAiException.badRequest("stop_token_ids", "stop_token_ids must be an array of integers");
            if (sti.size() > SamplingParams.MAX_STOP_TOKEN_IDS) {
                throw OpenAiException.badRequest(
                        "stop_token_ids",
                        "stop_token_ids takes at most " + SamplingParams.MAX_STOP_TOKEN_IDS + " ids, got "
                                + sti.size());
            }
            for (JsonNode s : sti) {
                if (!s.isInt() || s.asInt() < 0)
                    throw OpenAiException.badRequest(
                            "stop_token_ids", "stop_token_ids must be an array of token ids (integers >= 0)");
                stopIds.add(s.asInt());
            }
        }
        boolean logprobs;
        int top;
        if (endpoint == CompletionRequest.Endpoint.CHAT) {
            logprobs = boolField(body, "logprobs", false);
            top = intField(body, "top_logprobs", 0, 0, 20);
        } else {
            // completions: "logprobs": N asks for the top N alternatives
            JsonNode lp = body.get("logprobs");
            if (lp == null || lp.isNull()) {
                logprobs = false;
                top = 0;
            } else if (lp.isBoolean()) {
                logprobs = lp.asBoolean();
                top = 0;
            } else if (lp.isIntegralNumber()) {
                logprobs = true;
                top = intField(body, "logprobs", 0, 0, 20);
            } else throw OpenAiException.badRequest("logprobs", "logprobs must be an integer");
        }
        if (top < 0 || top > 20)
            throw OpenAiException.badRequest(
                    endpoint == CompletionRequest.Endpoint.CHAT ? "top_logprobs" : "logprobs", "must be in [0, 20]");
        boolean stream = boolField(body, "stream", false);
        boolean includeUsage = body.path("stream_options").path("include_usage").asBoolean(false);
        return CompletionRequest.builder(endpoint)
                .model(model)
                .messages(messages)
                .prompt(prompt)
                .promptTokenIds(ids)
                .maxTokens(maxTokens)
                .temperature(temperature)
                .topP(topP)
                .topK(topK < 0 ? 0 : topK)
                .n(n)
                .seed(seed)
                .stop(stop)
                .stopTokenIds(stopIds)
                .logprobs(logprobs)
                .topLogprobs(top)
                .stream(stream)
                .includeUsage(includeUsage)
                .ignoreEos(boolField(body, "ignore_eos", false))
                .returnTokenIds(boolField(body, "return_token_ids", false))
                .build();
    }

    private static String contentText(JsonNode c, int i) {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.asText();
        if (c.isArray()) { // [{"type":"text","text":"…"}]
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText())) {
                    throw OpenAiException.badRequest(
                            "messages[" + i + "].content", "only text content parts are supported");
                }
                sb.append(part.path("text").asText());
            }
            return sb.toString();
        }
        throw OpenAiException.badRequest(
                "messages[" + i + "].content", "content must be a string or an array of text parts");
    }

    private static String optText(JsonNode body, String f) {
        JsonNode v = body.get(f);
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw OpenAiException.badRequest(f, f + " must be a string");
        return v.asText();
    }

    /** An integer field checked against its range as a long, so 2^32 + 3 is refused rather than wrapped to 3. */
    private static int intField(JsonNode body, String f, int def, int min, int max) {
        JsonNode v = body.get(f);
        if (v == null || v.isNull()) return def;
        if (!v.isIntegralNumber() || !v.canConvertToLong())
            throw OpenAiException.badRequest(f, f + " must be an integer in [" + min + ", " + max + "], got " + v);
        long x = v.asLong();
        if (x < min || x > max)
            throw OpenAiException.badRequest(f, f + " must be in [" + min + ", " + max + "], got " + v);
        return (int) x;
    }

    private static long intLike(JsonNode body, String f) {
        JsonNode v = body.get(f);
        if (!v.isIntegralNumber() || !v.canConvertToLong())
            throw OpenAiException.badRequest(f, f + " must be an integer, got " + v);
        return v.asLong();
    }

    private static double numField(JsonNode body, String f, double def) {
        JsonNode v = body.get(f);
        if (v == null || v.isNull()) return def;
        if (!v.isNumber()) throw OpenAiException.badRequest(f, f + " must be a number, got " + v);
        return v.asDouble();
    }

    private static boolean boolField(JsonNode body, String f, boolean def) {
        JsonNode v = body.get(f);
        if (v == null || v.isNull()) return def;
        if (!v.isBoolean()) throw OpenAiException.badRequest(f, f + " must be true or false, got " + v);
        return v.asBoolean();
    }

    /** The JSON body a client sends for this request. */
}
