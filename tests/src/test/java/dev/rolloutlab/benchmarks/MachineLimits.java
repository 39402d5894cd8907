package dev.rolloutlab.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two limits an engine figure is a fraction of, measured on the machine the benchmark runs on: read bandwidth (a
 * STREAM-like sum over an array far larger than the caches) and the cores' peak FMA rate (independent Vector API
 * accumulators, enough to cover the FMA latency), both on every core at once. Each is the best of 40 short rounds: the
 * hypervisor here steals 10-140 ms of a core at a time, which a long round would always include and a best-of over
 * short ones leaves out (five long rounds read the FMA peak anywhere from 144 to 249 GFLOP/s).
 */
record MachineLimits(double readGBs, double peakGflops, int cores, int lanes) {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int ROUNDS = 41;

    static MachineLimits measure() throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(cores);
        try {
            return new MachineLimits(readBandwidth(pool, cores, ROUNDS), peakFma(pool, cores), cores, S.length());
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The better of two measurements of each limit: a limit is what the machine can do, and a slow phase of the VM
     * (read bandwidth measured 18.5 to 36 GB/s in runs minutes apart) only hides it.
     */
    MachineLimits best(MachineLimits o) {
        return new MachineLimits(Math.max(readGBs, o.readGBs), Math.max(peakGflops, o.peakGflops), cores, lanes);
    }

    /** Weights of {@code bytes} read once per token bound single-stream decode at this many tokens per second. */
    double tokensPerSecondBound(long bytes) {
        return readGBs * 1e9 / bytes;
    }

    String describe() {
        return String.format(
                "machine limits: read %.1f GB/s, peak FMA %.1f GFLOP/s (%d cores, %d float lanes)",
                readGBs, peakGflops, cores, lanes);
    }

    /**
     * Read bandwidth alone, each of {@code rounds} short rounds after the first (GB/s): for a figure paired with the
     * moment it ran, which takes the statistic it takes of its own steps.
     */
    static double[] readRates(int rounds) throws Exception {
        int cores = Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(cores);
        try {
            return readRates(pool, cores, rounds);
        } finally {
            pool.shutdownNow();
        }
    }

    private static double readBandwidth(ExecutorService pool, int cores, int rounds) throws Exception {
        return Arrays.stream(readRates(pool, cores, rounds)).max().orElseThrow();
    }

    private static double[] readRates(ExecutorService pool, int cores, int rounds) throws Exception {
        float[] data = new float[32 << 20]; // 128 MB, far past any last-level cache here
        for (int i = 0; i < data.length; i++) data[i] = i & 7;
        double[] rates = new double[rounds - 1];
        for (int round = 0; round < rounds; round++) {
            List<Callable<Float>> parts = new ArrayList<>();
            for (int p = 0; p < cores; p++) {
                int from = (int) ((long) data.length * p / cores), to = (int) ((long) data.length * (p + 1) / cores);
                parts.add(() -> sum(data, from, to));
            }
            long t0 = System.nanoTime();
            float check = 0;
            for (Future<Float> f : pool.invokeAll(parts)) check += f.get();
            double sec = (System.nanoTime() - t0) / 1e9;
            if (check < 0) throw new IllegalStateException("unreachable: keeps the sums live");
            if (round > 0) rates[round - 1] = data.length * 4.0 / sec / 1e9;
        }
        return rates;
    }

    private static float sum(float[] d, int from, int to) {
        int l = S.length();
        FloatVector a = FloatVector.zero(S), b = a, c = a, e = a;
        int i = from;
        for (; i + 4 * l <= to; i += 4 * l) {
            a = a.add(FloatVector.fromArray(S, d, i));
            b = b.add(FloatVector.fromArray(S, d, i + l));
            c = c.add(FloatVector.fromArray(S, d, i + 2 * l));
            e = e.add(FloatVector.fromArray(S, d, i + 3 * l));
        }
        float s = a.add(b).add(c).add(e).reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) s += d[i];
        return s;
    }

    private static double peakFma(ExecutorService pool, int cores) throws Exception {
        long iterations = 2_000_000; // about 5 ms a round
        double best = 0;
        for (int round = 0; round < ROUNDS; round++) {
            List<Callable<Float>> parts = new ArrayList<>();
            for (int p = 0; p < cores; p++) parts.add(() -> fmaLoop(iterations));
            long t0 = System.nanoTime();
            float check = 0;
            for (Future<Float> f : pool.invokeAll(parts)) check += f.get();
            double sec = (System.nanoTime() - t0) / 1e9;
            if (Float.isNaN(check)) throw new IllegalStateException("unreachable: keeps the sums live");
            double flops = 2.0 * S.length() * 10 * iterations * cores;
            if (round > 0) best = Math.max(best, flops / sec / 1e9);
        }
        return best;
    }

    /** Ten independent chains: two FMA units with a 4-5 cycle latency need at least eight in flight. */
    private static float fmaLoop(long iterations) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f), k = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(S, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0;
        FloatVector a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, k);
            a1 = a1.fma(m, k);
            a2 = a2.fma(m, k);
            a3 = a3.fma(m, k);
            a4 = a4.fma(m, k);
            a5 = a5.fma(m, k);
            a6 = a6.fma(m, k);
            a7 = a7.fma(m, k);
            a8 = a8.fma(m, k);
            a9 = a9.fma(m, k);
        }
        return a0.add(a1)
                .add(a2)
                .add(a3)
                .add(a4)
                .add(a5)
                .add(a6)
                .add(a7)
                .add(a8)
                .add(a9)
                .reduceLanes(VectorOperators.ADD);
    }
}
