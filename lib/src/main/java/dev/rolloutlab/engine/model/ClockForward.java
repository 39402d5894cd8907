package dev.rolloutlab.engine.model;

import java.util.Arrays;
import java.util.List;

/**
 * A forward pass that computes nothing and takes the time its {@link StepClock} gives. Every token is equally likely
 * except end-of-sequence, which never comes, so a simulated request always generates its {@code max_tokens}, as a
 * benchmark with {@code ignore_eos} does. Logprobs are then {@code -ln(vocab - 1)}; versions and batching are real.
 */
public final class ClockForward implements Forward {
    private final StepClock clock;
    private final int[] neverSampled;

    public ClockForward(StepClock clock, List<Integer> stopIds) {
        this.clock = clock;
        this.neverSampled = stopIds.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public boolean uniform() {
        return true;
    }

    @Override
    public void forward(
            Weights w,
            int n,
            int decodeRows,
            int[] tokens,
            int[] positions,
            KvCache[] caches,
            int[] logitRows,
            int nLogits,
            float[] logits) {
        long t0 = System.nanoTime();
        double context = 0;
        for (int r = 0; r < decodeRows; r++) context += positions[r] + 1;
        double meanContext = decodeRows == 0 ? 0 : context / decodeRows;
        int vocab = logits.length / Math.max(1, nLogits);
        Arrays.fill(logits, 0, nLogits * vocab, 0f);
        for (int i = 0; i < nLogits; i++)
            for (int stop : neverSampled)
                if (stop >= 0 && stop < vocab) logits[i * vocab + stop] = Float.NEGATIVE_INFINITY;
        clock.step(t0, n - decodeRows, decodeRows, meanContext);
    }
}
