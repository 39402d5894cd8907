package dev.rolloutlab.engine;

import dev.rolloutlab.engine.model.StepClock;
import java.time.Duration;

/**
 * Scheduler limits of an {@link InProcessEngine}: sequences decoded together, prompt tokens admitted per step, first
 * weights version, for a simulated engine the {@link StepClock} whose time replaces the forward pass (null: real), the
 * prefix cache's cap in bytes ({@link #AUTO_PREFIX_CACHE}: an eighth of the heap, at most 512 MiB; 0: off), and, in
 * tests only, a wait added to every step as if its compute were slower.
 */
public record EngineOptions(
        int maxRunningSequences,
        int maxPrefillTokensPerStep,
        long initialVersion,
        StepClock clock,
        long prefixCacheBytes,
        Duration testStepDelay) {
    /** The prefix cache's cap chosen from the heap: an eighth of it, at most 512 MiB. */
    public static final long AUTO_PREFIX_CACHE = -1;

    public static final EngineOptions DEFAULT = new EngineOptions(64, 1024, 0, null, AUTO_PREFIX_CACHE, Duration.ZERO);

    public EngineOptions {
        if (prefixCacheBytes < AUTO_PREFIX_CACHE)
            throw new IllegalArgumentException("the prefix cache's cap must be >= 0 bytes, got " + prefixCacheBytes);
    }

    /** Start numbering weights at {@code v}: a restarted server keeps the trainer's version numbers. */
    public EngineOptions withInitialVersion(long v) {
        return new EngineOptions(
                maxRunningSequences, maxPrefillTokensPerStep, v, clock, prefixCacheBytes, testStepDelay);
    }

    /** A simulated engine: steps take the clock's time, batches are capped at its {@code maxBatch}. */
    public EngineOptions simulated(StepClock c) {
        return new EngineOptions(
                c.maxBatch(), maxPrefillTokensPerStep, initialVersion, c, prefixCacheBytes, testStepDelay);
    }

    /** The prefix cache capped at {@code bytes} (0: off, {@link #AUTO_PREFIX_CACHE}: from the heap). */
    public EngineOptions withPrefixCache(long bytes) {
        return new EngineOptions(
                maxRunningSequences, maxPrefillTokensPerStep, initialVersion, clock, bytes, testStepDelay);
    }

    /** The cap this engine's prefix cache gets, in bytes (0: none). */
    public long prefixCacheCap() {
        return prefixCacheBytes == AUTO_PREFIX_CACHE
                ? Math.min(512L << 20, Runtime.getRuntime().maxMemory() / 8)
                : prefixCacheBytes;
    }

    /**
     * Test only: every step waits {@code d} more, inside the engine's own prefill and decode time, so a test can slow
     * one leg's engine and check that what the path around the engine costs does not move.
     */
    public EngineOptions withTestStepDelay(Duration d) {
        return new EngineOptions(
                maxRunningSequences, maxPrefillTokensPerStep, initialVersion, clock, prefixCacheBytes, d);
    }
}
