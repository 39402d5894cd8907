package dev.rolloutlab.server;

import java.time.Duration;

/**
 * What one {@code serve} port accepts: the largest completion request body, the largest pushed weight update, and
 * how long a weight change may take before it is abandoned with the old weights still serving.
 */
public record Limits(long maxRequestBytes, long maxUpdateBytes, Duration reloadTimeout) {
    /** 4 MiB of JSON is a prompt of about a million tokens, far past any context we serve. */
    public static final Limits DEFAULT = new Limits(4L << 20, 2L << 30, Duration.ofSeconds(120));

    public Limits {
        if (maxRequestBytes < 1024) throw new IllegalArgumentException("--max-request-bytes must be at least 1024, got " + maxRequestBytes);
        if (maxUpdateBytes < 1024) throw new IllegalArgumentException("--max-update-bytes must be at least 1024, got " + maxUpdateBytes);
        if (reloadTimeout.isNegative() || reloadTimeout.isZero()) throw new IllegalArgumentException("--reload-timeout-sec must be positive");
    }

    public Limits withReloadTimeout(Duration d) {
        return new Limits(maxRequestBytes, maxUpdateBytes, d);
    }
}
