package dev.rolloutlab.engine;

import java.util.List;

/**
 * One finished completion. {@code versions[i]} is the weights version token i was sampled under, so the staleness of
 * every token is exact; {@code topLogprobs} is empty unless requested.
 */
public record Sample(
        int index,
        int[] tokenIds,
        float[] logprobs,
        long[] versions,
        String text,
        FinishReason finishReason,
        List<List<TopLogprob>> topLogprobs) {

    public int completionTokens() {
        return tokenIds.length;
    }

    public long minVersion() {
        long m = Long.MAX_VALUE;
        for (long v : versions) m = Math.min(m, v);
        return versions.length == 0 ? -1 : m;
    }

    public long maxVersion() {
        long m = -1;
        for (long v : versions) m = Math.max(m, v);
        return m;
    }
}
