package dev.rolloutlab.results;

import dev.rolloutlab.results.Confidence.Interval;
import java.util.Locale;

/**
 * What the 95 % interval of a difference says against a practical threshold T, the smallest difference that would
 * change a researcher's choice: beyond T one way or the other, inside ±T, or neither at this run's noise. An interval
 * that merely excludes zero is not enough: on a noisy machine a 0.1 ms effect can be significant and still not matter.
 */
public enum Verdict {
    /** The whole interval lies beyond +T. */
    CONFIRMED("confirmed"),
    /** The whole interval lies beyond −T: the opposite of the claim holds. */
    CONTRADICTED("contradicted"),
    /** The whole interval lies within ±T: whatever the difference is, it is too small to matter. */
    NEGLIGIBLE("negligible"),
    /** The interval reaches across ±T, or there are too few samples for one. */
    UNDECIDED("undecided at this run's noise");

    /** The default threshold of a latency difference: 1 ms or 2 % of the baseline, whichever is larger. */
    public static double latencyThresholdMs(double baselineMs) {
        return Math.max(1.0, Double.isNaN(baselineMs) ? 0 : 0.02 * Math.abs(baselineMs));
    }

    /** The default threshold of a throughput difference: 2 % of the baseline. */
    public static double throughputThreshold(double baseline) {
        return 0.02 * Math.abs(baseline);
    }

    private final String word;

    Verdict(String word) {
        this.word = word;
    }

    /** The verdict on {@code difference} (a claim that it is positive) against threshold {@code t} (> 0). */
    public static Verdict of(Interval difference, double t) {
        if (difference == null || Double.isNaN(difference.low()) || Double.isNaN(difference.high())) return UNDECIDED;
        if (difference.low() > t) return CONFIRMED;
        if (difference.high() < -t) return CONTRADICTED;
        if (difference.low() >= -t && difference.high() <= t) return NEGLIGIBLE;
        return UNDECIDED;
    }

    /** The word a finding opens with. */
    public String word() {
        return word;
    }

    /**
     * The verdict with its threshold and the interval it was read from, e.g. "negligible (95 % CI [−0.20, 0.31] ms
     * within ±1.00 ms)".
     */
    public static String describe(Interval difference, double t, String unit) {
        Verdict v = of(difference, t);
        if (difference == null || Double.isNaN(difference.low()))
            return v.word + " (too few samples for an interval; T = " + fmt(t) + " " + unit + ")";
        String ci = "95 % CI [" + fmt(difference.low()) + ", " + fmt(difference.high()) + "] " + unit;
        return switch (v) {
            case CONFIRMED -> v.word + " (" + ci + " above T = " + fmt(t) + ")";
            case CONTRADICTED -> v.word + " (" + ci + " below −T = " + fmt(-t) + ")";
            case NEGLIGIBLE -> v.word + " (" + ci + " within ±" + fmt(t) + ")";
            case UNDECIDED -> v.word + " (" + ci + " neither within ±" + fmt(t) + " nor beyond it)";
        };
    }

    private static String fmt(double x) {
        return String.format(Locale.ROOT, "%.2f", x);
    }
}
