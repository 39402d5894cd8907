package dev.rolloutlab.report;

import tech.tablesaw.api.Table;

/**
 * How a 95 % interval becomes a chart's whisker: XChart draws them symmetric, so a whisker is half the interval's
 * width, its upper side where the interval of a figure that cannot be negative was cut at 0, and none for an interval
 * across too few rounds to mean anything.
 */
final class Whiskers {
    private Whiskers() {}

    /** Rounds under which an interval across rounds is too wide to draw: over two, t = 12.7. */
    static final int MIN_ROUNDS = 3;

    /** The whisker of a leg's interval of {@code metric} in the pooled rows; 0 when absent. */
    static double half(Table legs, String topology, String connection, String workload, String metric) {
        Double lo = Charts.find(legs, topology, connection, workload, metric + "_ci_low");
        Double hi = Charts.find(legs, topology, connection, workload, metric + "_ci_high");
        Double y = Charts.find(legs, topology, connection, workload, metric);
        return lo == null || hi == null || y == null ? 0.0 : of(y, lo, hi);
    }

    /** The whisker of {@code [lo, hi]} about {@code estimate}; 0 without an interval. */
    static double of(double estimate, double lo, double hi) {
        if (Double.isNaN(lo) || Double.isNaN(hi)) return 0;
        return lo == 0 ? hi - estimate : (hi - lo) / 2;
    }

    /** The rounds a compare run measured (0 when its run.json does not say). */
    static int roundsRun(RunData d) {
        return d.run()
                .map(r -> r.path("config")
                        .path("rounds_run")
                        .asInt(r.path("config").path("rounds").asInt(0)))
                .orElse(0);
    }
}
