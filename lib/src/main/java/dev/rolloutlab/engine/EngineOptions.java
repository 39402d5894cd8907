package dev.rolloutlab.engine;

/**
 * Scheduler limits of an {@link InProcessEngine}: sequences decoded together, prompt tokens admitted per step, first
 * weights version, and, for a simulated engine, the {@link TimingModel} that replaces the forward pass (null: real).
 */
public record EngineOptions(
        int maxRunningSequences, int maxPrefillTokensPerStep, long initialVersion, TimingModel timing) {
    public static final EngineOptions DEFAULT = new EngineOptions(64, 1024, 0, null);

    /** Start numbering weights at {@code v}: a restarted server keeps the trainer's version numbers. */
    public EngineOptions withInitialVersion(long v) {
        return new EngineOptions(maxRunningSequences, maxPrefillTokensPerStep, v, timing);
    }

    /** A simulated engine: steps take the model's time, batches are capped at its {@code maxBatch}. */
    public EngineOptions simulated(TimingModel t) {
        return new EngineOptions(t.maxBatch(), maxPrefillTokensPerStep, initialVersion, t);
    }
}
