package dev.rolloutlab.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rolloutlab.engine.tokenizer.ChatTemplate;
import dev.rolloutlab.util.Json;
import java.util.List;

/**
 * A validated {@code /v1/chat/completions} or {@code /v1/completions} request. The server parses one from JSON (errors
 * name the field); clients build one and send {@link #toJson()}, so both sides share one definition.
 */
public record CompletionRequest(
        Endpoint endpoint,
        String model,
        List<ChatTemplate.Message> messages,
        String prompt,
        int[] promptTokenIds,
        int maxTokens,
        double temperature,
        double topP,
        int topK,
        int n,
        Long seed,
        List<String> stop,
        List<Integer> stopTokenIds,
        boolean logprobs,
        int topLogprobs,
        boolean stream,
        boolean includeUsage,
        boolean ignoreEos,
        boolean returnTokenIds,
        String sessionId) {

    /** The two generation endpoints, named in flags and results as {@code chat} and {@code completions}. */
    public enum Endpoint {
        CHAT("chat", "/v1/chat/completions"),
        COMPLETIONS("completions", "/v1/completions");

        public final String path;
        private final String wire;

        Endpoint(String wire, String path) {
            this.wire = wire;
            this.path = path;
        }

        @com.fasterxml.jackson.annotation.JsonValue
        public String wire() {
            return wire;
        }

        @com.fasterxml.jackson.annotation.JsonCreator
        public static Endpoint parse(String s) {
            for (Endpoint e : values()) if (e.wire.equals(s)) return e;
            throw new IllegalArgumentException("unknown endpoint '" + s + "': expected completions, chat or auto");
        }

        /** A flag's value: an endpoint, or null for {@code auto} (probe the server once). */
        public static Endpoint parseOrAuto(String s) {
            return "auto".equals(s) ? null : parse(s);
        }

        @Override
        public String toString() {
            return wire;
        }
    }

    public static final int DEFAULT_MAX_TOKENS = 16;
    /** Far above any context window we serve; the engine then checks the real one. */
    public static final int MAX_TOKENS_LIMIT = 1 << 20;

    public static CompletionRequest chat(String model, String userContent, int maxTokens, double temperature) {
        return builder(Endpoint.CHAT)
                .model(model)
                .messages(List.of(new ChatTemplate.Message("user", userContent)))
                .maxTokens(maxTokens)
                .temperature(temperature)
                .build();
    }

    public static CompletionRequest completion(String model, int[] promptTokenIds, int maxTokens, double temperature) {
        return builder(Endpoint.COMPLETIONS)
                .model(model)
                .promptTokenIds(promptTokenIds)
                .maxTokens(maxTokens)
                .temperature(temperature)
                .build();
    }

    public CompletionRequest withStream(boolean stream, boolean includeUsage) {
        return toBuilder().stream(stream).includeUsage(includeUsage).build();
    }

    public CompletionRequest withSampling(int n, Long seed, boolean ignoreEos) {
        return toBuilder().n(n).seed(seed).ignoreEos(ignoreEos).build();
    }

    public CompletionRequest withReturnTokenIds(boolean v) {
        return toBuilder().returnTokenIds(v).build();
    }

    /**
     * This request as part of a session or GRPO group: sent with {@code X-Session-Id: id}, outside the body, which a
     * balancer's sticky policy keeps on one backend (null: none).
     */
    public CompletionRequest withSessionId(String id) {
        return toBuilder().sessionId(id).build();
    }

    /** A request for {@code endpoint} with OpenAI's defaults (16 tokens, temperature 1, top-p 1, n 1). */
    public static Builder builder(Endpoint endpoint) {
        return new Builder(endpoint);
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Names every field of a request; what is not set keeps OpenAI's default. */
    public static final class Builder {
        private Endpoint endpoint;
        private String model;
        private List<ChatTemplate.Message> messages;
        private String prompt;
        private int[] promptTokenIds;
        private int maxTokens = DEFAULT_MAX_TOKENS;
        private double temperature = 1.0;
        private double topP = 1.0;
        private int topK;
        private int n = 1;
        private Long seed;
        private List<String> stop = List.of();
        private List<Integer> stopTokenIds = List.of();
        private boolean logprobs;
        private int topLogprobs;
        private boolean stream;
        private boolean includeUsage;
        private boolean ignoreEos;
        private boolean returnTokenIds;
        private String sessionId;

        private Builder(Endpoint endpoint) {
            this.endpoint = endpoint;
        }

        private Builder(CompletionRequest r) {
            this.endpoint = r.endpoint;
            this.model = r.model;
            this.messages = r.messages;
            this.prompt = r.prompt;
            this.promptTokenIds = r.promptTokenIds;
            this.maxTokens = r.maxTokens;
            this.temperature = r.temperature;
            this.topP = r.topP;
            this.topK = r.topK;
            this.n = r.n;
            this.seed = r.seed;
            this.stop = r.stop;
            this.stopTokenIds = r.stopTokenIds;
            this.logprobs = r.logprobs;
            this.topLogprobs = r.topLogprobs;
            this.stream = r.stream;
            this.includeUsage = r.includeUsage;
            this.ignoreEos = r.ignoreEos;
            this.returnTokenIds = r.returnTokenIds;
            this.sessionId = r.sessionId;
        }

        public Builder model(String v) {
            this.model = v;
            return this;
        }

        public Builder messages(List<ChatTemplate.Message> v) {
            this.messages = v;
            return this;
        }

        public Builder prompt(String v) {
            this.prompt = v;
            return this;
        }

        public Builder promptTokenIds(int[] v) {
            this.promptTokenIds = v;
            return this;
        }

        public Builder maxTokens(int v) {
            this.maxTokens = v;
            return this;
        }

        public Builder temperature(double v) {
            this.temperature = v;
            return this;
        }

        public Builder topP(double v) {
            this.topP = v;
            return this;
        }

        public Builder topK(int v) {
            this.topK = v;
            return this;
        }

        public Builder n(int v) {
            this.n = v;
            return this;
        }

        public Builder seed(Long v) {
            this.seed = v;
            return this;
        }

        public Builder stop(List<String> v) {
            this.stop = v;
            return this;
        }

        public Builder stopTokenIds(List<Integer> v) {
            this.stopTokenIds = v;
            return this;
        }

        public Builder logprobs(boolean v) {
            this.logprobs = v;
            return this;
        }

        public Builder topLogprobs(int v) {
            this.topLogprobs = v;
            return this;
        }

        public Builder stream(boolean v) {
            this.stream = v;
            return this;
        }

        public Builder includeUsage(boolean v) {
            this.includeUsage = v;
            return this;
        }

        public Builder ignoreEos(boolean v) {
            this.ignoreEos = v;
            return this;
        }

        /** 1 to 256 visible ASCII characters, or null; anything else could not travel as a header. */
        public Builder sessionId(String id) {
            if (id != null && (id.isEmpty() || id.length() > 256 || !id.chars().allMatch(ch -> ch > 32 && ch < 127)))
                throw new IllegalArgumentException("a session id must be 1-256 visible ASCII characters: " + id);
            this.sessionId = id;
            return this;
        }

        public Builder returnTokenIds(boolean v) {
            this.returnTokenIds = v;
            return this;
        }

        public CompletionRequest build() {
            return new CompletionRequest(
                    endpoint,
                    model,
                    messages,
                    prompt,
                    promptTokenIds,
                    maxTokens,
                    temperature,
                    topP,
                    topK,
                    n,
                    seed,
                    stop,
                    stopTokenIds,
                    logprobs,
                    topLogprobs,
                    stream,
                    includeUsage,
                    ignoreEos,
                    returnTokenIds,
                    sessionId);
        }
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        if (model != null) o.put("model", model);
        if (endpoint == Endpoint.CHAT) {
            ArrayNode m = o.putArray("messages");
            for (ChatTemplate.Message msg : messages)
                m.addObject().put("role", msg.role()).put("content", msg.content());
        } else if (promptTokenIds != null) {
            ArrayNode p = o.putArray("prompt");
            for (int t : promptTokenIds) p.add(t);
        } else {
            o.put("prompt", prompt);
        }
        o.put("max_tokens", maxTokens);
        o.put("temperature", temperature);
        if (topP < 1) o.put("top_p", topP);
        if (topK > 0) o.put("top_k", topK);
        if (n != 1) o.put("n", n);
        if (seed != null) o.put("seed", seed);
        if (!stop.isEmpty()) stop.forEach(o.withArray("stop")::add);
        if (!stopTokenIds.isEmpty()) stopTokenIds.forEach(o.withArray("stop_token_ids")::add);
        if (logprobs) {
            if (endpoint == Endpoint.CHAT) {
                o.put("logprobs", true);
                if (topLogprobs > 0) o.put("top_logprobs", topLogprobs);
            } else {
                o.put("logprobs", topLogprobs);
            }
        }
        if (stream) {
            o.put("stream", true);
            if (includeUsage) o.putObject("stream_options").put("include_usage", true);
        }
        if (ignoreEos) o.put("ignore_eos", true);
        if (returnTokenIds) o.put("return_token_ids", true);
        return o;
    }
}
