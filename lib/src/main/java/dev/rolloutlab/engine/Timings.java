package dev.rolloutlab.engine;

/**
 * Where one request's time went inside the engine, in nanoseconds: waiting to be admitted, the prefill step that
 * produced its first token, and decoding the rest. Negative values mean not known.
 */
public record Timings(long queueNs, long prefillNs, long decodeNs) {
    public static final Timings UNKNOWN = new Timings(-1, -1, -1);
}
