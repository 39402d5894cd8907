package dev.rolloutlab.engine;

/** Scheduler limits of an {@link InProcessEngine}: sequences decoded together, prompt tokens admitted per step, first weights version. */
public record EngineOptions(int maxRunningSequences, int maxPrefillTokensPerStep, long initialVersion) {
    public static final EngineOptions DEFAULT = new EngineOptions(64, 1024, 0);

    /** Start numbering weights at {@code v}: a restarted server keeps the trainer's version numbers. */
    public EngineOptions withInitialVersion(long v) {
        return new EngineOptions(maxRunningSequences, maxPrefillTokensPerStep, v);
    }
}
