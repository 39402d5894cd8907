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

    /** The median of {@code xs} in any order (a copy's 50th percentile), NaN when empty. */
    public static double median(double[] xs) {
        return medianInPlace(xs.clone(), xs.length);
    }

    /** The median of {@code xs}, NaN when empty. */
    public static double median(Collection<Double> xs) {
        return median(xs.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /**
     * The median of {@code xs[0, n)}, which it reorders: selection rather than a sort, since a bootstrap takes a
     * thousand medians of each leg's requests, and sorting each resample was most of a run's results step.
     */
    static double medianInPlace(double[] xs, int n) {
        if (n == 0) return Double.NaN;
        double pos = 0.5 * (n - 1);
        int lo = (int) pos;
        select(xs, 0, n, lo);
        if (lo == pos) return xs[lo];
        // every value after the selected one is at least it: the next order statistic is their smallest (NaN last)
        double next = xs[lo + 1];
        for (int i = lo + 2; i < n; i++) if (Double.compare(xs[i], next) < 0) next = xs[i];
        return xs[lo] + (next - xs[lo]) * (pos - lo);
    }

    /**
     * Reorders {@code xs[from, to)} so that {@code xs[k]} holds the value a sort would put there, none greater before
     * it and none smaller after it (Hoare's selection, expected linear time; a sort past a depth budget, so no input
     * makes it quadratic). A NaN sorts last, as in {@link Arrays#sort(double[])}.
     */
    static void select(double[] xs, int from, int to, int k) {
        if (k < from || k >= to) throw new IndexOutOfBoundsException(k + " outside [" + from + ", " + to + ")");
        for (int i = from; i < to; i++) {
            if (Double.isNaN(xs[i])) { // comparisons below would not order a NaN
                Arrays.sort(xs, from, to);
                return;
            }
        }
        int lo = from, hi = to - 1, budget = 2 * (32 - Integer.numberOfLeadingZeros(to - from)) + 8;
        while (hi > lo) {
            if (budget-- == 0) {
                Arrays.sort(xs, lo, hi + 1);
                return;
            }
            int mid = (lo + hi) >>> 1;
            if (xs[mid] < xs[lo]) swap(xs, mid, lo);
            if (xs[hi] < xs[lo]) swap(xs, hi, lo);
            if (xs[hi] < xs[mid]) swap(xs, hi, mid);
            double pivot = xs[mid];
            int i = lo, j = hi;
            while (i <= j) {
                while (xs[i] < pivot) i++;
                while (xs[j] > pivot) j--;
                if (i <= j) swap(xs, i++, j--);
            }
            // now [lo, j] holds no value above the pivot, [i, hi] none below it, and (j, i) only the pivot
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return;
        }
    }

    private static void swap(double[] xs, int i, int j) {
        double t = xs[i];
        xs[i] = xs[j];
        xs[j] = t;
    }

    /** Linear-interpolated percentile of a sorted array (numpy's default), NaN when empty. */
    public static double pct(double[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        double pos = p / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
