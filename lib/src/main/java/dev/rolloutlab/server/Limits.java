package dev.rolloutlab.server;

import java.time.Duration;

/**
 * What one {@code serve} port accepts: the largest completion request body, the largest pushed weight update, how long
 * a weight change may take before it is abandoned with the old weights still serving, how many connections it holds
 * open, and how long its engine may go without a step while work waits before {@code /health} says it is down.
 */
public record Limits(
        long maxRequestBytes, long maxUpdateBytes, Duration reloadTimeout, int maxConnections, Duration engineStall) {
    /** 4 MiB of JSON is a prompt of about a million tokens, far past any context we serve. */
    public static final Limits DEFAULT =
            new Limits(4L << 20, 2L << 30, Duration.ofSeconds(120), 2048, Duration.ofSeconds(20));

    public Limits {
        if (maxRequestBytes < 1024)
            throw new IllegalArgumentException("--max-request-bytes must be at least 1024, got " + maxRequestBytes);
        if (maxUpdateBytes < 1024)
            throw new IllegalArgumentException("--max-update-bytes must be at least 1024, got " + maxUpdateBytes);
        if (reloadTimeout.isNegative() || reloadTimeout.isZero())
            throw new IllegalArgumentException("--reload-timeout-sec must be positive");
        if (maxConnections < 8)
            throw new IllegalArgumentException("--max-connections must be at least 8, got " + maxConnections);
        if (engineStall.isNegative() || engineStall.isZero())
            throw new IllegalArgumentException("--engine-stall-sec must be positive");
    }

    /** The defaults but for the body caps and the reload deadline. */
    public static Limits of(long maxRequestBytes, long maxUpdateBytes, Duration reloadTimeout) {
        return new Limits(maxRequestBytes, maxUpdateBytes, reloadTimeout, DEFAULT.maxConnections, DEFAULT.engineStall);
    }

    public Limits withReloadTimeout(Duration d) {
        return new Limits(maxRequestBytes, maxUpdateBytes, d, maxConnections, engineStall);
    }

    public Limits withConnections(int max) {
        return new Limits(maxRequestBytes, maxUpdateBytes, reloadTimeout, max, engineStall);
    }

    public Limits withEngineStall(Duration d) {
        return new Limits(maxRequestBytes, maxUpdateBytes, reloadTimeout, maxConnections, d);
    }
}
