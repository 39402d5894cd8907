package dev.rolloutlab.engine;

import java.util.List;

/** The answer to one {@link GenerationRequest}: its n samples, in index order, and where the engine's time went. */
public record Completion(int promptTokens, List<Sample> samples, Timings timings) {
    /** An answer whose engine timings are not known (one that came over HTTP). */
    public Completion(int promptTokens, List<Sample> samples) {
        this(promptTokens, samples, Timings.UNKNOWN);
    }

    public int completionTokens() {
        int n = 0;
        for (Sample s : samples) n += s.completionTokens();
        return n;
    }

    public long minVersion() {
        return samples.stream().mapToLong(Sample::minVersion).min().orElse(-1);
    }

    public long maxVersion() {
        return samples.stream().mapToLong(Sample::maxVersion).max().orElse(-1);
    }
}
