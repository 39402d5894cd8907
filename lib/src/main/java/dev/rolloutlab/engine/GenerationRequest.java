package dev.rolloutlab.engine;

/** A prompt as token ids and how to sample {@code n} completions of it (one GRPO group when n > 1). */
public record GenerationRequest(int[] promptTokens, int n, SamplingParams params) {
    public GenerationRequest {
        if (promptTokens == null || promptTokens.length == 0)
            throw new IllegalArgumentException("prompt must not be empty");
        if (n < 1 || n > 128) throw new IllegalArgumentException("n must be in [1, 128], got " + n);
        if (params == null) throw new IllegalArgumentException("params must not be null");
    }
}
