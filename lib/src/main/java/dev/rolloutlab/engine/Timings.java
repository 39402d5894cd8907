package dev.rolloutlab.engine;

/**
 * Where one request's time went inside the engine, in nanoseconds: waiting to be admitted, the prefill step that
 * produced its first token, and decoding the rest; and how many prompt tokens the prefix cache served, so prefill
 * computed only the others. Negative values mean not known.
 */
public record Timings(long queueNs, long prefillNs, long decodeNs, int cachedTokens) {
    public static final Timings UNKNOWN = new Timings(-1, -1, -1, -1);
}
