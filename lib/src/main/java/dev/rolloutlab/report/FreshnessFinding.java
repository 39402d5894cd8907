package dev.rolloutlab.report;

import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.results.Verdict;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

/**
 * The weight-freshness finding: each strategy's version lag, propagation and KL with their intervals across steps, and
 * the strategies ranked by a verdict on their lags rather than by point estimates.
 */
final class FreshnessFinding {
    private FreshnessFinding() {}

    /** A difference in version lag smaller than a tenth of a version does not change a choice between strategies. */
    static final double LAG_THRESHOLD_VERSIONS = 0.1;

    /**
     * One strategy's figures with their intervals across steps (NaN bounds in folders from before the intervals); read
     * out of the row, which Tablesaw reuses as a cursor.
     */
    private record Lag(
            String strategy,
            Confidence.Interval lag,
            long maxLag,
            Confidence.Interval propagation,
            long lost,
            double kl) {}

    static String of(Table f) {
        boolean tokens = f.containsColumn("token_weighted_lag");
        String lagColumn = tokens ? "token_weighted_lag" : "mean_lag";
        List<Lag> lags = new ArrayList<>();
        for (Row r : f) {
            lags.add(new Lag(
                    r.getString("strategy"),
                    interval(r, lagColumn),
                    (long) r.getNumber("max_lag"),
                    interval(r, "mean_propagation_ms"),
                    (long) r.getNumber("lost"),
                    tokens ? value(r, "kl_k3") : Double.NaN));
        }
        StringBuilder each = new StringBuilder();
        Lag inproc = null;
        for (Lag l : lags) {
            if (l.strategy.equals(Strategy.INPROC_SWAP.wire())) inproc = l;
            each.append(String.format(
                    Locale.ROOT,
                    "%s %.2f%s (max %d, all serving after %.0f ms%s, lost %d%s); ",
                    l.strategy,
                    l.lag.estimate(),
                    bracket(l.lag, "%.2f"),
                    l.maxLag,
                    l.propagation.estimate(),
                    bracket(l.propagation, "%.0f"),
                    l.lost,
                    Double.isNaN(l.kl) ? "" : String.format(Locale.ROOT, ", KL %.1e nats/token", l.kl)));
        }
        boolean onPolicy = inproc != null && inproc.maxLag == 0;
        return "**In-process can be fully on-policy; HTTP fanout samples stale weights unless reloads are fast** — "
                + (inproc == null
                        ? "no in-process strategy ran"
                        : onPolicy
                                ? "confirmed for in-process (no sample was ever a version behind)"
                                : "contradicted: in-process sampled stale weights")
                + ": " + (tokens ? "token-weighted" : "mean")
                + " version lag per strategy from its second step on, once an update can be in flight (95 % CI "
                + "across steps): "
                + each.toString().replaceAll("; $", "") + ". Ranked by lag: " + ranking(lags) + "."
                + (inproc == null ? "" : againstInProcess(lags, inproc))
                + (!tokens || f.doubleColumn("kl_k3").countMissing() == f.rowCount()
                        ? ""
                        : " A step here changes the weights slightly (seeded noise of ±1e-3), so the KL "
                                + "figures show the order of the cost per stale token, "
                                + "not its size for a real optimiser step.");
    }

    /**
     * Strategies from freshest to stalest, "&lt;" where the next is staler by more than the threshold (its interval,
     * the two half-widths in quadrature, lies beyond it) and "≈" where this run cannot tell them apart.
     */
    private static String ranking(List<Lag> lags) {
        List<Lag> sorted = new ArrayList<>(lags);
        sorted.sort((a, b) -> Double.compare(a.lag.estimate(), b.lag.estimate()));
        StringBuilder sb = new StringBuilder(sorted.isEmpty() ? "" : sorted.get(0).strategy);
        for (int i = 1; i < sorted.size(); i++) {
            Confidence.Interval a = sorted.get(i - 1).lag, b = sorted.get(i).lag;
            double d = b.estimate() - a.estimate(), h = Math.hypot(half(a), half(b));
            Verdict v = Verdict.of(new Confidence.Interval(d, d - h, d + h, 0.95), LAG_THRESHOLD_VERSIONS);
            sb.append(v == Verdict.CONFIRMED ? " < " : " ≈ ").append(sorted.get(i).strategy);
        }
        boolean none = sb.indexOf(" < ") < 0 && sorted.size() > 1;
        return sb
                + String.format(
                        Locale.ROOT,
                        " (<: staler by more than %.1f versions at 95 %%; ≈: not told apart at this run's noise%s)",
                        LAG_THRESHOLD_VERSIONS,
                        none ? "; more --freshness-steps narrow the intervals" : "");
    }

    /**
     * Each other strategy against in-process, the on-policy reference: whether it samples staler by more than the
     * threshold, by a verdict. Unlike the ranking's chain of neighbours, one strategy's wide interval cannot blur it.
     */
    private static String againstInProcess(List<Lag> lags, Lag inproc) {
        Map<Verdict, List<String>> by = new EnumMap<>(Verdict.class);
        for (Lag l : lags) {
            if (l == inproc) continue;
            double d = l.lag.estimate() - inproc.lag.estimate(), h = Math.hypot(half(l.lag), half(inproc.lag));
            by.computeIfAbsent(
                            Verdict.of(new Confidence.Interval(d, d - h, d + h, 0.95), LAG_THRESHOLD_VERSIONS),
                            k -> new ArrayList<>())
                    .add(l.strategy);
        }
        if (by.isEmpty()) return "";
        List<String> parts = new ArrayList<>();
        by.forEach((v, names) -> parts.add(v.word() + " for " + String.join(", ", names)));
        return String.format(
                Locale.ROOT,
                " Staler than %s by more than %.1f versions: %s.",
                inproc.strategy,
                LAG_THRESHOLD_VERSIONS,
                String.join("; ", parts));
    }

    /**
     * Half an interval's width as a chart's whisker reads it ({@link Whiskers#of}: its upper side where a lag's
     * interval was cut at 0; 0 for a value that cannot vary, e.g. in-process's lag); NaN without an interval.
     */
    private static double half(Confidence.Interval ci) {
        return Double.isNaN(ci.low()) ? Double.NaN : Whiskers.of(ci.estimate(), ci.low(), ci.high());
    }

    private static String bracket(Confidence.Interval ci, String format) {
        return Double.isNaN(ci.low())
                ? ""
                : String.format(Locale.ROOT, " [" + format + ", " + format + "]", ci.low(), ci.high());
    }

    private static Confidence.Interval interval(Row r, String column) {
        return new Confidence.Interval(
                value(r, column), value(r, column + "_ci_low"), value(r, column + "_ci_high"), 0.95);
    }

    private static double value(Row r, String column) {
        return !r.columnNames().contains(column) || r.isMissing(column) ? Double.NaN : r.getNumber(column);
    }
}
