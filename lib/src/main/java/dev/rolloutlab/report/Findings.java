package dev.rolloutlab.report;

import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.results.Topology;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

/**
 * The source SOP's rules of thumb, each stated with this run's number and a verdict from a paired 95 % interval:
 * "confirmed" only when the interval excludes zero, "not distinguishable at this run's noise (±x)" when it does not.
 */
final class Findings {
    private Findings() {}

    static List<String> of(RunData d) {
        List<String> out = new ArrayList<>();
        Table legs = d.legs();
        List<String> workloads = new ArrayList<>(
                new LinkedHashSet<>(legs.stringColumn("workload").asList()));
        if (workloads.isEmpty()) {
            out.add("No latency legs were measured.");
            return out;
        }
        int flagged = SelfChecks.flags(d).size();
        if (flagged > 0)
            out.add("**Read with care: the self-checks flagged " + flagged + " problem(s)** (see Self-checks below).");
        String shortest = workloads.get(0), longest = workloads.get(workloads.size() - 1);
        overhead(d, legs, shortest).ifPresent(out::add);
        shortMatters(d, legs, shortest, longest).ifPresent(out::add);
        pair(
                        d,
                        "**`Connection: close` costs more than keep-alive**",
                        Topology.HTTP1.wire(),
                        Connection.CLOSE.wire(),
                        Topology.HTTP1.wire(),
                        Connection.KEEP_ALIVE.wire(),
                        shortest,
                        String.format(
                                Locale.ROOT,
                                " (%.3f ms of the close leg went to opening connections)",
                                orNaN(Charts.find(
                                        legs,
                                        Topology.HTTP1.wire(),
                                        Connection.CLOSE.wire(),
                                        shortest,
                                        "mean_connect_ms"))))
                .ifPresent(out::add);
        pair(
                        d,
                        "**The load balancer adds latency over client-side fanout**",
                        Topology.LB.wire(),
                        Connection.KEEP_ALIVE.wire(),
                        Topology.HTTP_N.wire(),
                        Connection.KEEP_ALIVE.wire(),
                        shortest,
                        "")
                .ifPresent(out::add);
        scaleOut(d, legs, longest).ifPresent(out::add);
        d.freshness().ifPresent(f -> out.add(freshness(f)));
        return out;
    }

    private static Optional<String> overhead(RunData d, Table legs, String w) {
        String base = d.baseline(Topology.HTTP1.wire());
        Double in = Charts.find(legs, base, Connection.NONE.wire(), w, "mean_e2el_ms"),
                http = Charts.find(legs, Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), w, "mean_e2el_ms");
        if (in == null || http == null) return Optional.empty();
        Confidence.Interval diff = Pairs.e2elDifference(
                d, Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), base, Connection.NONE.wire(), w);
        StringBuilder sb = new StringBuilder(String.format(
                Locale.ROOT,
                "**In-process has lower per-request overhead** — %s: on %s, %s %.2f ms vs one "
                        + "HTTP port %.2f ms (keep-alive), i.e. %+.2f ms per request%s.",
                Pairs.verdict(diff),
                w,
                base,
                in,
                http,
                http - in,
                Pairs.describe(diff)));
        String baseN = d.baseline(Topology.HTTP_N.wire());
        Double inN = Charts.find(legs, baseN, Connection.NONE.wire(), w, "mean_e2el_ms"),
                httpN = Charts.find(legs, Topology.HTTP_N.wire(), Connection.KEEP_ALIVE.wire(), w, "mean_e2el_ms");
        if (inN != null && httpN != null && !baseN.equals(base)) {
            Confidence.Interval dn = Pairs.e2elDifference(
                    d, Topology.HTTP_N.wire(), Connection.KEEP_ALIVE.wire(), baseN, Connection.NONE.wire(), w);
            sb.append(String.format(
                    Locale.ROOT,
                    " With equal engines (N ports vs %s): %.2f ms vs %.2f ms — %s%s.",
                    baseN,
                    httpN,
                    inN,
                    Pairs.verdict(dn),
                    Pairs.describe(dn)));
        }
        return Optional.of(sb.toString());
    }

    /** HTTP's overhead relative to in-process on the shortest vs the longest cell, each with its interval. */
    private static Optional<String> shortMatters(RunData d, Table legs, String shortest, String longest) {
        String base = d.baseline(Topology.HTTP1.wire());
        Double inS = Charts.find(legs, base, Connection.NONE.wire(), shortest, "mean_e2el_ms"),
                inL = Charts.find(legs, base, Connection.NONE.wire(), longest, "mean_e2el_ms");
        Confidence.Interval s = Pairs.e2elDifference(
                d, Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), base, Connection.NONE.wire(), shortest);
        Confidence.Interval l = Pairs.e2elDifference(
                d, Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), base, Connection.NONE.wire(), longest);
        if (inS == null || inL == null || s == null || l == null || shortest.equals(longest)) return Optional.empty();
        double sLo = s.low() / inS * 100,
                sHi = s.high() / inS * 100,
                lLo = l.low() / inL * 100,
                lHi = l.high() / inL * 100;
        // the two cells are measured independently: the difference of their relative overheads has a half-width of
        // the two half-widths in quadrature (normal approximation); overlapping intervals alone would be too strict
        double relS = s.estimate() / inS * 100, relL = l.estimate() / inL * 100, gap = relS - relL;
        double half = Math.hypot((sHi - sLo) / 2, (lHi - lLo) / 2);
        Confidence.Interval diff = new Confidence.Interval(gap, gap - half, gap + half, 0.95);
        return Optional.of(String.format(
                Locale.ROOT,
                "**Overhead matters most for short prompts and completions** — %s: HTTP adds %.1f %% "
                        + "(95 %% CI [%.1f, %.1f]) on %s but %.1f %% ([%.1f, %.1f]) on %s (%.2f ms vs %.2f ms "
                        + "absolute); difference %+.1f points, "
                        + "95 %% CI [%.1f, %.1f].",
                Confidence.verdict(diff, "points"),
                relS,
                sLo,
                sHi,
                shortest,
                relL,
                lLo,
                lHi,
                longest,
                s.estimate(),
                l.estimate(),
                gap,
                diff.low(),
                diff.high()));
    }

    private static Optional<String> pair(
            RunData d, String claim, String ta, String ca, String tb, String cb, String w, String extra) {
        Double a = Charts.find(d.legs(), ta, ca, w, "mean_e2el_ms"),
                b = Charts.find(d.legs(), tb, cb, w, "mean_e2el_ms");
        if (a == null || b == null) return Optional.empty();
        Confidence.Interval diff = Pairs.e2elDifference(d, ta, ca, tb, cb, w);
        return Optional.of(String.format(
                Locale.ROOT,
                "%s — %s: %s %s %.2f ms vs %s %s %.2f ms on %s (%+.2f ms)%s%s.",
                claim,
                Pairs.verdict(diff),
                ta,
                ca,
                a,
                tb,
                cb,
                b,
                w,
                a - b,
                extra,
                Pairs.describe(diff)));
    }

    /** N ports against one port, and N ports against N in-process engines, on throughput paired round by round. */
    private static Optional<String> scaleOut(RunData d, Table legs, String w) {
        Double t1 = Charts.find(legs, Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), w, "output_throughput"),
                tn = Charts.find(legs, Topology.HTTP_N.wire(), Connection.KEEP_ALIVE.wire(), w, "output_throughput");
        if (t1 == null || tn == null) return Optional.empty();
        Confidence.Interval diff = Pairs.roundDifference(
                d,
                Topology.HTTP_N.wire(),
                Connection.KEEP_ALIVE.wire(),
                Topology.HTTP1.wire(),
                Connection.KEEP_ALIVE.wire(),
                w,
                "output_throughput");
        int cores = d.run().map(r -> r.path("machine").path("cores").asInt(0)).orElse(0);
        StringBuilder sb = new StringBuilder(String.format(
                Locale.ROOT,
                "**HTTP fanout scales out** — %s: on %s, N ports with client fanout %.1f tok/s vs one port "
                        + "%.1f tok/s%s.",
                diff == null ? "not distinguishable: fewer than two rounds" : Confidence.verdict(diff, "tok/s"),
                w,
                tn,
                t1,
                Pairs.describe(diff, "tok/s")));
        String baseN = d.baseline(Topology.HTTP_N.wire());
        Double inN = Charts.find(legs, baseN, Connection.NONE.wire(), w, "output_throughput");
        if (inN != null) {
            Confidence.Interval eq = Pairs.roundDifference(
                    d,
                    Topology.HTTP_N.wire(),
                    Connection.KEEP_ALIVE.wire(),
                    baseN,
                    Connection.NONE.wire(),
                    w,
                    "output_throughput");
            sb.append(String.format(
                    Locale.ROOT,
                    " Against %s (the same engines in-process): %.1f tok/s, so HTTP gives %+.1f tok/s%s.",
                    baseN,
                    inN,
                    tn - inN,
                    Pairs.describe(eq, "tok/s")));
        }
        sb.append(String.format(
                Locale.ROOT,
                " Here every engine shares this machine's %d cores, so more ports add engines but no compute: "
                        + "scale-out needs more hosts, which this run cannot show.",
                cores));
        return Optional.of(sb.toString());
    }

    private static String freshness(Table f) {
        StringBuilder lags = new StringBuilder();
        Double inLag = null;
        boolean tokens = f.containsColumn("token_weighted_lag");
        String lagColumn = tokens ? "token_weighted_lag" : "mean_lag";
        for (Row r : f) {
            double lag = r.isMissing(lagColumn) ? Double.NaN : r.getNumber(lagColumn);
            if (r.getString("strategy").equals(Strategy.INPROC_SWAP.wire())) inLag = lag;
            lags.append(String.format(
                    Locale.ROOT,
                    "%s %.2f (max %d, propagation %.0f ms, lost %d%s); ",
                    r.getString("strategy"),
                    lag,
                    (long) r.getNumber("max_lag"),
                    r.isMissing("mean_propagation_ms") ? Double.NaN : r.getNumber("mean_propagation_ms"),
                    (long) r.getNumber("lost"),
                    tokens && !r.isMissing("kl_k3")
                            ? String.format(Locale.ROOT, ", KL %.1e nats/token", r.getNumber("kl_k3"))
                            : ""));
        }
        return "**In-process can be fully on-policy; HTTP fanout samples stale weights unless reloads are fast** — "
                + (inLag != null && inLag == 0 ? "confirmed" : "see numbers") + ": "
                + (tokens ? "token-weighted" : "mean") + " version lag per strategy: "
                + lags.toString().replaceAll("; $", "") + "."
                + (!tokens || f.doubleColumn("kl_k3").countMissing() == f.rowCount()
                        ? ""
                        : " A step here changes the weights slightly (seeded noise of ±1e-3), so the KL "
                                + "figures show the order of the cost per stale token, "
                                + "not its size for a real optimiser step.");
    }

    private static double orNaN(Double x) {
        return x == null ? Double.NaN : x;
    }
}
