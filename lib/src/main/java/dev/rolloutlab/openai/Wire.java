package dev.rolloutlab.openai;

import java.util.List;
import java.util.Map;

/** OpenAI response bodies as records; {@link dev.rolloutlab.util.Json} writes them in snake_case without nulls. */
public final class Wire {
    private Wire() {}

    /** Token counts; {@code prompt_tokens_details.cached_tokens} is what the prefix cache served, as OpenAI says it. */
    public record Usage(
            int promptTokens, int completionTokens, int totalTokens, PromptTokensDetails promptTokensDetails) {
        /** Counts without cache details (unknown: left out). */
        public static Usage of(int prompt, int completion) {
            return new Usage(prompt, completion, prompt + completion, null);
        }

        /** Counts with the prompt tokens the prefix cache served ({@code cached < 0}: unknown, left out). */
        public static Usage of(int prompt, int completion, int cached) {
            return new Usage(
                    prompt, completion, prompt + completion, cached < 0 ? null : new PromptTokensDetails(cached));
        }
    }

    public record PromptTokensDetails(int cachedTokens) {}

    public record ChatMessage(String role, String content) {}

    /** Chat logprobs: {@code {"content":[{"token","logprob","bytes","top_logprobs":[…]}]}}. */
    public record ChatLogprobs(List<TokenLogprob> content) {}

    public record TokenLogprob(String token, double logprob, int[] bytes, List<TopToken> topLogprobs) {}

    public record TopToken(String token, double logprob, int[] bytes) {}

    /** Completions logprobs: parallel arrays, and one {token: logprob} map per position for the alternatives. */
    public record TextLogprobs(
            List<String> tokens,
            List<Double> tokenLogprobs,
            List<Map<String, Double>> topLogprobs,
            List<Integer> textOffset) {}

    public record ChatChoice(
            int index,
            ChatMessage message,
            ChatLogprobs logprobs,
            String finishReason,
            int[] tokenIds,
            long[] tokenVersions) {}

    public record ChatCompletion(
            String id, String object, long created, String model, List<ChatChoice> choices, Usage usage) {}

    public record Delta(String role, String content) {}

    public record ChunkChoice(
            int index, Delta delta, ChatLogprobs logprobs, String finishReason, int[] tokenIds, long[] tokenVersions) {}

    public record ChatChunk(
            String id, String object, long created, String model, List<ChunkChoice> choices, Usage usage) {}

    public record TextChoice(
            int index, String text, TextLogprobs logprobs, String finishReason, int[] tokenIds, long[] tokenVersions) {}

    public record TextCompletion(
            String id, String object, long created, String model, List<TextChoice> choices, Usage usage) {}

    public record ModelCard(String id, String object, long created, String ownedBy, String root, int maxModelLen) {}

    public record ModelList(String object, List<ModelCard> data) {}

    /** sglang-style {@code /get_load}, plus the weights version, the prefix cache and the engine's step totals. */
    public record Load(
            int numReqs,
            int numRunningReqs,
            int numWaitingReqs,
            double tokensPerSecond,
            long kvCacheBytes,
            long weightsVersion,
            PrefixCacheLoad prefixCache,
            StepsLoad steps) {}

    /** The engine's steps since it started: how many, sequences decoded and prompt tokens prefilled, time in them. */
    public record StepsLoad(long count, long decodeRows, long prefillTokens, double busyMs) {}

    /** The engine's prefix cache in {@code /get_load}: lookups, hits, prompt tokens looked up and served, its size. */
    public record PrefixCacheLoad(
            long queries, long hits, long queriedTokens, long cachedTokens, int blocks, long bytes, long evictions) {}
}
