package dev.rolloutlab.benchmarks;

import dev.rolloutlab.engine.EngineOptions;
import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.SamplingParams;
import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.results.Percentiles;
import java.util.Arrays;
import java.util.stream.DoubleStream;

/**
 * Single-stream decode in float32 and bfloat16 as paired runs (not a test): {@code tests/bench engine [shape] pair}.
 * This VM's phase moves single stream by ±20 % between runs minutes apart, more than the figures' own targets, so each
 * pair runs both types back to back between two measurements of read bandwidth, and each pair yields a ratio of its
 * own: float32 against the read bound of that moment, bfloat16 against float32. Each run's rate is taken at its median
 * step and the bandwidth at its median round: a best-of against a median had set the machine's luckiest moment against
 * the engine's typical one. The medians over the pairs are the figures; their spread says how much the phase still
 * reached them.
 */
final class PairedSingleStream {
    private static final int PAIRS = 9, TOKENS = 200, BANDWIDTH_ROUNDS = 12;

    private PairedSingleStream() {}

    static void run(String shape) throws Exception {
        Checkpoint f32 = Checkpoint.load(EngineBenchmark.checkpoint(shape, DType.F32));
        Checkpoint bf16 = Checkpoint.load(EngineBenchmark.checkpoint(shape, DType.BF16));
        int[] prompt = f32.tokenizer().encode("Once upon a time there was a little model");
        long bytes = f32.weights().matrixBytes();
        EngineOptions options = EngineOptions.DEFAULT.withPrefixCache(0);
        try (InProcessEngine a = new InProcessEngine(f32, options);
                InProcessEngine b = new InProcessEngine(bf16, options)) {
            for (int i = 0; i < 10; i++) { // compiled before the first pair (the JIT settles over about five runs)
                tokensPerSecond(a, prompt);
                tokensPerSecond(b, prompt);
            }
            double[] ofBound = new double[PAIRS], ratio = new double[PAIRS];
            for (int p = 0; p < PAIRS; p++) {
                double[] before = MachineLimits.readRates(BANDWIDTH_ROUNDS);
                double x, y; // the order alternates, so neither type always runs in the other's wake
                if (p % 2 == 0) {
                    x = tokensPerSecond(a, prompt);
                    y = tokensPerSecond(b, prompt);
                } else {
                    y = tokensPerSecond(b, prompt);
                    x = tokensPerSecond(a, prompt);
                }
                double[] after = MachineLimits.readRates(BANDWIDTH_ROUNDS);
                // the median round, as the rate is the median step
                double gbs = Percentiles.median(DoubleStream.concat(Arrays.stream(before), Arrays.stream(after))
                        .toArray());
                ofBound[p] = x / (gbs * 1e9 / bytes);
                ratio[p] = y / x;
                System.err.printf(
                        "pair %d of %d: read %.1f GB/s, float32 %.1f tok/s (%.0f %% of its bound), bfloat16 %.1f"
                                + " tok/s (%.2fx)%n",
                        p + 1, PAIRS, gbs, x, 100 * ofBound[p], y, ratio[p]);
            }
            System.out.printf(
                    "single stream at the median step, %d pairs of %d greedy tokens (%s, %.1f MB of float32 matrices per token):%n"
                            + "  float32 against the read bound of its pair: median %.0f %% (range %.0f-%.0f %%)%n"
                            + "  bfloat16 against float32 of its pair: median %.2fx (range %.2f-%.2fx)%n",
                    PAIRS,
                    TOKENS,
                    shape,
                    bytes / 1e6,
                    100 * Percentiles.median(ofBound),
                    100 * min(ofBound),
                    100 * max(ofBound),
                    Percentiles.median(ratio),
                    min(ratio),
                    max(ratio));
        }
    }

    /**
     * Tokens per second at the run's median step: a step the hypervisor stalled (10-140 ms of a core here) would
     * otherwise decide a 0.3 s run's rate, and the figure is what the kernels do with the machine, not the stalls.
     */
    private static double tokensPerSecond(InProcessEngine e, int[] prompt) {
        long[] at = new long[TOKENS];
        int[] n = {0};
        e.submit(
                        new GenerationRequest(
                                prompt, 1, SamplingParams.greedy(TOKENS).withIgnoreEos(true)),
                        (sample, token, logprob, version, text) -> at[n[0]++] = System.nanoTime())
                .join();
        double[] steps = new double[TOKENS - 1];
        for (int i = 1; i < TOKENS; i++) steps[i - 1] = at[i] - at[i - 1];
        return 1e9 / Percentiles.median(steps);
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElseThrow();
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElseThrow();
    }
}
