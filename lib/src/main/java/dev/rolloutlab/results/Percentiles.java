package dev.rolloutlab.results;

import java.util.Arrays;
import java.util.Collection;

/** The summary's order statistics: means, numpy-style percentiles, and when a percentile may be reported at all. */
public final class Percentiles {
    private Percentiles() {}

    static double mean(double[] sorted) {
        if (sorted.length == 0) return Double.NaN;
        double s = 0;
        for (double v : sorted) s += v;
        return s / sorted.length;
    }

    /** Bootstrap resamples behind each latency interval: enough for a stable 95 % interval, cheap next to a leg. */
    static final int BOOTSTRAP = 1000;

    /**
     * A percentile only when at least 10 samples lie beyond it (p99 needs 1,000 requests, p90 100, the median 20); with
     * fewer it would be a single extreme request, so it is left empty rather than reported.
     */
    public static double reported(double[] sorted, double p) {
        return sorted.length * (100 - p) >= 1000 - 1e-9
                ? pct(sorted, p)
                : Double.NaN; // percent points: 100 requests at p90 leave exactly 10 beyond
    }

    /** The median of {@code xs} in any order (a sorted copy's 50th percentile), NaN when empty. */
    public static double median(double[] xs) {
        double[] sorted = xs.clone();
        Arrays.sort(sorted);
        return pct(sorted, 50);
    }

    /** The median of {@code xs}, NaN when empty. */
    public static double median(Collection<Double> xs) {
        return median(xs.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Linear-interpolated percentile of a sorted array (numpy's default), NaN when empty. */
    public static double pct(double[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        double pos = p / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
