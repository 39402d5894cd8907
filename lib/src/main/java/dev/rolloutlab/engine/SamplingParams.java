package dev.rolloutlab.engine;

import java.util.List;

/**
 * How to sample one completion. {@code temperature == 0} is greedy; {@code topK <= 0} and {@code topP >= 1} disable
 * those filters; a null {@code seed} draws a fresh one. Logprobs are always of the unscaled distribution.
 */
public record SamplingParams(
        int maxTokens,
        double temperature,
        double topP,
        int topK,
        Long seed,
        List<Integer> stopTokenIds,
        List<String> stop,
        int topLogprobs,
        boolean ignoreEos) {

    /**
     * The lowest temperature above greedy: below it {@code 1/T} times a logit gap overflows a float and the sampling
     * weights turn to NaN (vLLM clamps to the same value).
     */
    public static final double MIN_TEMPERATURE = 0.01;
    /** Highest temperature: far past any useful one, low enough that the scaled logits stay finite. */
    public static final double MAX_TEMPERATURE = 100;
    /** Stop strings per request and characters per stop string (OpenAI takes 4; vLLM's users rarely pass more). */
    public static final int MAX_STOP_STRINGS = 16, MAX_STOP_CHARS = 256;
    /** Stop token ids per request. */
    public static final int MAX_STOP_TOKEN_IDS = 1024;

    public SamplingParams {
        if (maxTokens < 1) throw new IllegalArgumentException("max_tokens must be at least 1, got " + maxTokens);
        if (!(temperature == 0 || temperature >= MIN_TEMPERATURE && temperature <= MAX_TEMPERATURE)) {
            throw new IllegalArgumentException("temperature must be 0 (greedy) or in [" + MIN_TEMPERATURE + ", "
                    + (int) MAX_TEMPERATURE + "], got " + temperature);
        }
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        if (topK < -1)
            throw new IllegalArgumentException("top_k must be -1 or 0 (off) or a positive count, got " + topK);
        if (stop != null && stop.size() > MAX_STOP_STRINGS) {
            throw new IllegalArgumentException(
                    "stop takes at most " + MAX_STOP_STRINGS + " strings, got " + stop.size());
        }
        if (stop != null)
            for (String s : stop) {
                if (s.length() > MAX_STOP_CHARS) {
                    throw new IllegalArgumentException(
                            "each stop string takes at most " + MAX_STOP_CHARS + " characters, got " + s.length());
                }
            }
        if (stopTokenIds != null && stopTokenIds.size() > MAX_STOP_TOKEN_IDS) {
            throw new IllegalArgumentException(
                    "stop_token_ids takes at most " + MAX_STOP_TOKEN_IDS + " ids, got " + stopTokenIds.size());
        }
        if (topLogprobs < 0 || topLogprobs > 20)
            throw new IllegalArgumentException("top_logprobs must be in [0, 20], got " + topLogprobs);
        stopTokenIds = stopTokenIds == null ? List.of() : List.copyOf(stopTokenIds);
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(maxTokens, 0, 1, 0, null, null, null, 0, false);
    }

    public static SamplingParams of(int maxTokens, double temperature, Long seed) {
        return new SamplingParams(maxTokens, temperature, 1, 0, seed, null, null, 0, false);
    }

    public SamplingParams withSeed(Long v) {
        return new SamplingParams(maxTokens, temperature, topP, topK, v, stopTokenIds, stop, topLogprobs, ignoreEos);
    }

    public SamplingParams withTopP(double v) {
        return new SamplingParams(maxTokens, temperature, v, topK, seed, stopTokenIds, stop, topLogprobs, ignoreEos);
    }

    public SamplingParams withTopK(int v) {
        return new SamplingParams(maxTokens, temperature, topP, v, seed, stopTokenIds, stop, topLogprobs, ignoreEos);
    }

    public SamplingParams withStop(List<String> v) {
        return new SamplingParams(maxTokens, temperature, topP, topK, seed, stopTokenIds, v, topLogprobs, ignoreEos);
    }

    public SamplingParams withStopTokenIds(List<Integer> v) {
        return new SamplingParams(maxTokens, temperature, topP, topK, seed, v, stop, topLogprobs, ignoreEos);
    }

    public SamplingParams withTopLogprobs(int v) {
        return new SamplingParams(maxTokens, temperature, topP, topK, seed, stopTokenIds, stop, v, ignoreEos);
    }

    public SamplingParams withIgnoreEos(boolean v) {
        return new SamplingParams(maxTokens, temperature, topP, topK, seed, stopTokenIds, stop, topLogprobs, v);
    }
}
