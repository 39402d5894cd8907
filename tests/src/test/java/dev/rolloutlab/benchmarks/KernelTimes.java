package dev.rolloutlab.benchmarks;

import dev.rolloutlab.engine.kernels.Ops;
import dev.rolloutlab.engine.kernels.PackedMatrix;
import java.util.Random;
import java.util.function.LongSupplier;

/**
 * The kernels a decode step is made of, timed alone (not a test): {@code tests/bench engine small kernels}. The lm
 * head's product in both types, alternating (its ratio says whether bfloat16 is bound by memory or by its widening),
 * and the per-token work outside the GEMM at {@code small}'s sizes: one head's attention at 200 positions, and the
 * sampler's maximum, exponentials and sum over 32,000 logits. Each figure is the best of many calls, the machine's
 * undisturbed cost.
 */
final class KernelTimes {
    private static final int HIDDEN = 288, VOCAB = 32000, HEAD_DIM = 48, POSITIONS = 200;

    private KernelTimes() {}

    static void run() {
        Random rnd = new Random(1);
        float[] w = random(rnd, VOCAB * HIDDEN), x = random(rnd, HIDDEN), logits = new float[VOCAB];
        PackedMatrix f32 = PackedMatrix.pack(w, null, VOCAB, HIDDEN),
                bf16 = PackedMatrix.pack(w, null, VOCAB, HIDDEN, true);
        // alternating call by call: each type's panels push the other's out of the last-level cache (32 MB here),
        // so both are read from memory as in a decode step; a loop of one type alone serves bfloat16 from cache
        long a = Long.MAX_VALUE, b = Long.MAX_VALUE;
        for (int i = 0; i < 800; i++) { // the best of the last 200 pairs; the first ones compile
            if (i == 600) a = b = Long.MAX_VALUE;
            a = Math.min(a, time(() -> Ops.matmul(x, 1, f32, logits)));
            b = Math.min(b, time(() -> Ops.matmul(x, 1, bf16, logits)));
        }
        System.out.printf(
                "lm head product (%d x %d, one row, from memory): float32 %.0f us (%.1f GB/s), bfloat16 %.0f us"
                        + " (%.1f GB/s): %.2fx%n",
                VOCAB, HIDDEN, a / 1e3, f32.bytes() / (double) a, b / 1e3, bf16.bytes() / (double) b, (double) a / b);
        float[] q = random(rnd, HEAD_DIM), keys = random(rnd, HEAD_DIM * 256), scores = new float[POSITIONS];
        float[] values = random(rnd, POSITIONS * HIDDEN), out = new float[HIDDEN], weights = new float[VOCAB];
        float[] row = random(rnd, VOCAB);
        long s = 0, v = 0, m = 0, e = 0;
        for (int round = 0; round < 4; round++) { // the last round's figures: the first ones compile the kernels
            s = best(5000, () -> time(() -> Ops.scores(q, 0, keys, 0, 256, HEAD_DIM, POSITIONS, 0.1f, scores)));
            v = best(5000, () -> time(() -> Ops.weightedSum(scores, POSITIONS, values, 0, HIDDEN, HEAD_DIM, out, 0)));
            m = best(2000, () -> time(() -> Ops.max(row, 0, VOCAB)));
            e = best(
                    2000,
                    () -> time(() -> {
                        Ops.exps(row, 0, VOCAB, 3f, 1f, weights);
                        Ops.sum(weights, VOCAB);
                    }));
        }
        System.out.printf(
                "one head's attention at %d positions (%d dims): scores %.2f us, weighted sum %.2f us%n"
                        + "sampler over %d logits: maximum %.1f us, exponentials and their sum %.1f us%n",
                POSITIONS, HEAD_DIM, s / 1e3, v / 1e3, VOCAB, m / 1e3, e / 1e3);
    }

    private static long time(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return System.nanoTime() - t0;
    }

    private static long best(int calls, LongSupplier call) {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < calls; i++) best = Math.min(best, call.getAsLong());
        return best;
    }

    private static float[] random(Random rnd, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = rnd.nextFloat() - 0.5f;
        return f;
    }
}
