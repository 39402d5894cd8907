package dev.rolloutlab.results;

import java.util.List;

/**
 * What prefix caches did for a set of requests: prompt tokens sent, those the engines served from cache (each answer's
 * {@code cached_tokens}), and the samples asked for. The prompt each sample still computed is what routing decides.
 */
public record PrefixUse(long promptTokens, long cachedTokens, long samples) {
    /** Over the successful requests of {@code records}; an answer without {@code cached_tokens} counts none cached. */
    public static PrefixUse of(List<RequestRecord> records) {
        long prompt = 0, cached = 0, samples = 0;
        for (RequestRecord r : records) {
            if (!r.ok()) continue;
            prompt += r.promptTokens();
            double ct = r.serverTiming() == null ? Double.NaN : r.serverTiming().cachedTokens();
            cached += Double.isNaN(ct) ? 0 : (long) ct;
            samples += r.n();
        }
        return new PrefixUse(prompt, cached, samples);
    }

    /** Prompt tokens computed per sample; NaN with no sample. */
    public double computedPerSample() {
        return samples == 0 ? Double.NaN : (double) (promptTokens - cachedTokens) / samples;
    }

    /** The share of prompt tokens served from cache; NaN with no prompt. */
    public double hitRate() {
        return promptTokens == 0 ? Double.NaN : (double) cachedTokens / promptTokens;
    }
}
