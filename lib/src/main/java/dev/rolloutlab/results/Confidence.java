package dev.rolloutlab.results;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.apache.commons.statistics.distribution.TDistribution;

/**
 * Uncertainty for the numbers a researcher decides by: a percentile bootstrap of a mean (over requests), a Student-t
 * interval (over rounds) and a paired difference; {@link Verdict} turns an interval into a verdict. The bootstrap is
 * seeded, so the same data give the same interval on every run.
 */
public final class Confidence {
    private Confidence() {}

    /** A point estimate and its interval at {@code level} (e.g. 0.95). */
    public record Interval(double estimate, double low, double high, double level) {
        /** No figure at all: nothing was measured. */
        public static final Interval NONE = new Interval(Double.NaN, Double.NaN, Double.NaN, 0.95);

        /** A figure without an interval (too few data for one). */
        public static Interval point(double estimate) {
            return new Interval(estimate, Double.NaN, Double.NaN, 0.95);
        }

        public double halfWidth() {
            return (high - low) / 2;
        }

        /**
         * This interval cut at {@code floor}, for a figure that cannot lie below it (a throughput, a lag, a time): the
         * true value lies at or above the floor, so the cut loses none of the interval's coverage.
         */
        public Interval atLeast(double floor) {
            return new Interval(estimate, Math.max(low, floor), Math.max(high, floor), level);
        }
    }

    /** Percentile bootstrap of the mean of {@code xs}: {@code resamples} resamples with replacement, seeded. */
    public static Interval bootstrapMean(double[] xs, int resamples, long seed, double level) {
        if (xs.length == 0) return new Interval(Double.NaN, Double.NaN, Double.NaN, level);
        SplittableRandom r = new SplittableRandom(seed);
        double[] means = new double[resamples];
        for (int b = 0; b < resamples; b++) {
            double s = 0;
            for (int i = 0; i < xs.length; i++) s += xs[r.nextInt(xs.length)];
            means[b] = s / xs.length;
        }
        Arrays.sort(means);
        double alpha = (1 - level) / 2;
        return new Interval(
                mean(xs), Percentiles.pct(means, 100 * alpha), Percentiles.pct(means, 100 * (1 - alpha)), level);
    }

    /**
     * Percentile bootstrap of the median of {@code xs} (the estimate is the sample median), seeded like
     * {@link #bootstrapMean}.
     */
    public static Interval bootstrapMedian(double[] xs, int resamples, long seed, double level) {
        if (xs.length == 0) return new Interval(Double.NaN, Double.NaN, Double.NaN, level);
        SplittableRandom r = new SplittableRandom(seed);
        double[] medians = new double[resamples], sample = new double[xs.length];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < xs.length; i++) sample[i] = xs[r.nextInt(xs.length)];
            medians[b] = Percentiles.medianInPlace(sample, sample.length);
        }
        Arrays.sort(medians);
        double alpha = (1 - level) / 2;
        return new Interval(
                Percentiles.median(xs),
                Percentiles.pct(medians, 100 * alpha),
                Percentiles.pct(medians, 100 * (1 - alpha)),
                level);
    }

    /** Student-t interval of the mean of a few values (one per round): mean ± t(n−1) · s / √n. */
    public static Interval tMean(double[] xs, double level) {
        int n = xs.length;
        double m = mean(xs);
        if (n < 2) return new Interval(m, Double.NaN, Double.NaN, level);
        double ss = 0;
        for (double x : xs) ss += (x - m) * (x - m);
        double sd = Math.sqrt(ss / (n - 1));
        double t = TDistribution.of(n - 1).inverseCumulativeProbability(1 - (1 - level) / 2);
        double h = t * sd / Math.sqrt(n);
        return new Interval(m, m - h, m + h, level);
    }

    /**
     * The paired difference a − b (same requests or same rounds, index by index), as a t interval of the differences.
     */
    public static Interval pairedDifference(double[] a, double[] b, double level) {
        if (a.length != b.length)
            throw new IllegalArgumentException("a paired difference needs pairs: " + a.length + " vs " + b.length);
        double[] d = new double[a.length];
        for (int i = 0; i < d.length; i++) d[i] = a[i] - b[i];
        return tMean(d, level);
    }

    /**
     * a - b over pairs that are not independent within a block (e.g. requests in flight together share engine batches):
     * the mean difference of each block (blocks in key order), then a t interval over the block means.
     */
    public static Interval blockedDifference(long[] block, double[] a, double[] b, double level) {
        if (a.length != b.length || a.length != block.length)
            throw new IllegalArgumentException("a blocked difference needs one block per pair");
        TreeMap<Long, double[]> sums = new TreeMap<>();
        for (int i = 0; i < a.length; i++) {
            double[] s = sums.computeIfAbsent(block[i], k -> new double[2]);
            s[0] += a[i] - b[i];
            s[1]++;
        }
        return tMean(sums.values().stream().mapToDouble(s -> s[0] / s[1]).toArray(), level);
    }

    /**
     * The interquartile mean of a − b (the mean of the middle half of the differences), with a percentile bootstrap
     * that resamples rounds, then whole blocks within each (pairs within a block share engine batches; blocks within a
     * round share the machine's spell), seeded. On a shared VM a stall of tens of milliseconds (the hypervisor, a
     * collection) lands on a few requests of either leg at random; a plain mean of a few hundred pairs moves with how
     * many it caught, the middle half does not.
     */
    public static Interval blockedInterquartileDifference(
            long[] round, long[] block, double[] a, double[] b, int resamples, long seed, double level) {
        if (a.length != b.length || a.length != block.length || a.length != round.length)
            throw new IllegalArgumentException("a blocked difference needs one round and one block per pair");
        TreeMap<Long, TreeMap<Long, List<Double>>> byRound = new TreeMap<>();
        double[] all = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            all[i] = a[i] - b[i];
            byRound.computeIfAbsent(round[i], k -> new TreeMap<>())
                    .computeIfAbsent(block[i], k -> new ArrayList<>())
                    .add(all[i]);
        }
        double[][][] rounds = byRound.values().stream()
                .map(blocks -> blocks.values().stream()
                        .map(l -> l.stream().mapToDouble(Double::doubleValue).toArray())
                        .toArray(double[][]::new))
                .toArray(double[][][]::new);
        double estimate = interquartileMean(all, all.length);
        if (Arrays.stream(rounds).mapToInt(r -> r.length).sum() < 2)
            return new Interval(estimate, Double.NaN, Double.NaN, level);
        SplittableRandom r = new SplittableRandom(seed);
        double[] means = new double[resamples], sample = new double[2 * a.length];
        for (int k = 0; k < resamples; k++) {
            int n = 0;
            for (int q = 0; q < rounds.length; q++) {
                double[][] blocks = rounds[r.nextInt(rounds.length)];
                for (int j = 0; j < blocks.length; j++) {
                    double[] diffs = blocks[r.nextInt(blocks.length)];
                    if (n + diffs.length > sample.length) sample = Arrays.copyOf(sample, 2 * (n + diffs.length));
                    System.arraycopy(diffs, 0, sample, n, diffs.length);
                    n += diffs.length;
                }
            }
            means[k] = interquartileMean(sample, n);
        }
        Arrays.sort(means);
        double alpha = (1 - level) / 2, widen = roundsCorrection(rounds.length);
        return new Interval(
                estimate,
                estimate - widen * (estimate - Percentiles.pct(means, 100 * alpha)),
                estimate + widen * (Percentiles.pct(means, 100 * (1 - alpha)) - estimate),
                level);
    }

    /**
     * How much wider than its percentiles a bootstrap over {@code rounds} resampled rounds must be: a resample of R
     * rounds varies by (R-1)/R of what the rounds themselves do, a third too little at three rounds (the main job's
     * default), which left two runs' estimates inside each other's 95 % intervals 76-83 % of the time where exact
     * intervals give 83 %. The factor also widens the blocks' share, which their number makes negligible.
     */
    static double roundsCorrection(int rounds) {
        return rounds < 2 ? 1 : Math.sqrt(rounds / (rounds - 1.0));
    }

    /** The mean of the middle half of {@code xs[0, n)}, which it reorders. */
    static double interquartileMean(double[] xs, int n) {
        if (n == 0) return Double.NaN;
        int from = n / 4, to = n - n / 4;
        // the middle half by two selections, not a sort: the bootstrap takes 2,000 of these per estimate
        Percentiles.select(xs, 0, n, from);
        Percentiles.select(xs, from, n, to - 1);
        double s = 0;
        for (int i = from; i < to; i++) s += xs[i];
        return s / (to - from);
    }

    /** The plain mean of {@code xs}. */
    public static double mean(double[] xs) {
        double s = 0;
        for (double x : xs) s += x;
        return xs.length == 0 ? Double.NaN : s / xs.length;
    }
}
