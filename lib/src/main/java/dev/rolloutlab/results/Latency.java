package dev.rolloutlab.results;

import dev.rolloutlab.results.Confidence.Interval;

/**
 * One latency over a leg's requests, in ms: the mean and the median, each with its 95 % interval where one is computed,
 * and the tail. A percentile is NaN unless 10 requests lie beyond it ({@link Percentiles#reported}).
 */
public record Latency(Interval mean, Interval median, double p90, double p99) {
    /** No requests: nothing to report. */
    public static final Latency NONE = new Latency(Interval.NONE, Interval.NONE, Double.NaN, Double.NaN);

    /** The distribution of {@code sorted}, without intervals. */
    static Latency of(double[] sorted) {
        return new Latency(
                Interval.point(Percentiles.mean(sorted)),
                Interval.point(Percentiles.reported(sorted, 50)),
                Percentiles.reported(sorted, 90),
                Percentiles.reported(sorted, 99));
    }

    /** The same, with the mean's bootstrap interval (and the median's when {@code medianSeed} is not 0). */
    static Latency withIntervals(double[] sorted, long meanSeed, long medianSeed) {
        Latency l = of(sorted);
        Interval mean = Confidence.bootstrapMean(sorted, Percentiles.BOOTSTRAP, meanSeed, 0.95);
        Interval median = l.median;
        if (medianSeed != 0 && !Double.isNaN(median.estimate())) {
            Interval b = Confidence.bootstrapMedian(sorted, Percentiles.BOOTSTRAP, medianSeed, 0.95);
            median = new Interval(median.estimate(), b.low(), b.high(), 0.95);
        }
        return new Latency(new Interval(l.mean.estimate(), mean.low(), mean.high(), 0.95), median, l.p90, l.p99);
    }
}
