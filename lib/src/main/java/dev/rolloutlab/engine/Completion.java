package dev.rolloutlab.engine;

import java.util.List;

/** The answer to one {@link GenerationRequest}: its n samples, in index order. */
public record Completion(int promptTokens, List<Sample> samples) {
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
