package dev.rolloutlab.engine;

import dev.rolloutlab.engine.model.StepClock;

/**
 * Scheduler limits of an {@link InProcessEngine}: sequences decoded together, prompt tokens admitted per step, first
 * weights version, and, for a simulated engine, the {@link StepClock} whose time replaces the forward pass (null:
 * real).
 */
public record EngineOptions(
        int maxRunningSequences, int maxPrefillTokensPerStep, long initialVersion, StepClock clock) {
    public static final EngineOptions DEFAULT = new EngineOptions(64, 1024, 0, null);

    /** Start numbering weights at {@code v}: a restarted server keeps the trainer's version numbers. */
    public EngineOptions withInitialVersion(long v) {
        return new EngineOptions(maxRunningSequences, maxPrefillTokensPerStep, v, clock);
    }

    /** A simulated engine: steps take the clock's time, batches are capped at its {@code maxBatch}. */
    public EngineOptions simulated(StepClock c) {
        return new EngineOptions(c.maxBatch(), maxPrefillTokensPerStep, initialVersion, c);
    }
}
