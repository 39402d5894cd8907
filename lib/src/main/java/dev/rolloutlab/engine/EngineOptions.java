package dev.rolloutlab.engine;

import dev.rolloutlab.engine.model.StepClock;
import java.time.Duration;

/**
 * Scheduler limits of an {@link InProcessEngine}: sequences decoded together, prompt tokens admitted per step, first
 * weights version, for a simulated engine the {@link StepClock} whose time replaces the forward pass (null: real), and,
 * in tests only, a wait added to every step as if its compute were slower.
 */
public record EngineOptions(
        int maxRunningSequences,
        int maxPrefillTokensPerStep,
        long initialVersion,
        StepClock clock,
        Duration testStepDelay) {
    public static final EngineOptions DEFAULT = new EngineOptions(64, 1024, 0, null, Duration.ZERO);

    /** Start numbering weights at {@code v}: a restarted server keeps the trainer's version numbers. */
    public EngineOptions withInitialVersion(long v) {
        return new EngineOptions(maxRunningSequences, maxPrefillTokensPerStep, v, clock, testStepDelay);
    }

    /** A simulated engine: steps take the clock's time, batches are capped at its {@code maxBatch}. */
    public EngineOptions simulated(StepClock c) {
        return new EngineOptions(c.maxBatch(), maxPrefillTokensPerStep, initialVersion, c, testStepDelay);
    }

    /**
     * Test only: every step waits {@code d} more, inside the engine's own prefill and decode time, so a test can slow
     * one leg's engine and check that what the path around the engine costs does not move.
     */
    public EngineOptions withTestStepDelay(Duration d) {
        return new EngineOptions(maxRunningSequences, maxPrefillTokensPerStep, initialVersion, clock, d);
    }
}
