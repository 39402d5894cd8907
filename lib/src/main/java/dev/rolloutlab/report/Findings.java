package dev.rolloutlab.report;

import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.results.Verdict;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import tech.tablesaw.api.Table;

/**
 * The source SOP's rules of thumb, each stated with this run's number and a {@link Verdict} against a practical
 * threshold T from a paired 95 % interval. HTTP's cost is read from the tax (e2el minus the engine's own time), which
 * the engine's compute noise cannot move; the e2el differences, which it can, are a table of their own.
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
        tax(d, legs, shortest).ifPresent(out::add);
        engineQueue(d, legs, shortest).ifPresent(out::add);
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
        d.freshness().ifPresent(f -> out.add(FreshnessFinding.of(f)));
        return out;
    }

    /** The threshold for a latency difference on {@code workload}: from the in-process baseline's mean e2el. */
    static double threshold(RunData d, Table legs, String topology, String workload) {
        String base = d.baseline(topology);
        return Verdict.latencyThresholdMs(
                base == null
                        ? Double.NaN
                        : orNaN(Charts.find(legs, base, Connection.NONE.wire(), workload, "mean_e2el_ms")));
    }

    /** HTTP's tax over in-process, paired request by request over every cell, one port and through the balancer. */
    private static Optional<String> tax(RunData d, Table legs, String shortest) {
        String base = d.baseline(Topology.HTTP1.wire());
        if (base == null) return Optional.empty();
        if (!d.hasEngineTimings()) return e2elOnly(d, legs, base, shortest);
        Confidence.Interval diff =
                Pairs.overBaseline(d, Pairs.Metric.TAX, Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), null);
        if (diff == null) return Optional.empty();
        double t = threshold(d, legs, Topology.HTTP1.wire(), shortest);
        StringBuilder sb = new StringBuilder(String.format(
                Locale.ROOT,
                "**In-process has lower per-request overhead** — %s: HTTP's tax (e2el minus the engine's own queue, "
                        + "prefill and decode, so the engine's compute noise does not enter) averages %.2f ms per "
                        + "request on one HTTP port with keep-alive and %.2f ms in-process (%s); paired request by "
                        + "request over every cell, the middle half of the differences averages %+.2f ms (a stall of "
                        + "tens of ms lands on either leg at random and is left out)%s.",
                Verdict.describe(diff, t, "ms"),
                Pairs.mean(d, Pairs.Metric.TAX, Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire()),
                Pairs.mean(d, Pairs.Metric.TAX, base, Connection.NONE.wire()),
                base,
                diff.estimate(),
                cpu(d, Topology.HTTP1.wire(), base)));
        String baseN = d.baseline(Topology.LB.wire());
        Confidence.Interval lb = baseN == null
                ? null
                : Pairs.overBaseline(d, Pairs.Metric.TAX, Topology.LB.wire(), Connection.KEEP_ALIVE.wire(), null);
        if (lb != null)
            sb.append(String.format(
                    Locale.ROOT,
                    " Through the balancer (lb over %s): %+.2f ms per request — %s.",
                    baseN,
                    lb.estimate(),
                    Verdict.describe(lb, threshold(d, legs, Topology.LB.wire(), shortest), "ms")));
        Control.of(d)
                .map(z -> Pairs.overBaseline(
                        z, Pairs.Metric.TAX, Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), null))
                .ifPresent(z -> sb.append(String.format(
                        Locale.ROOT,
                        " On the zero-compute control (the same grid on clock engines, no compute to vary) the same "
                                + "difference is %s ms.",
                        Overheads.interval(z))));
        sb.append(" The e2el differences, which also carry the engine's compute variation between legs, are in "
                + "\"HTTP's tax over in-process\" below.");
        return Optional.of(sb.toString());
    }

    /**
     * A folder whose requests carry no engine timings (written before servers reported them) can only compare e2el, and
     * says that the engine's compute variation is in it.
     */
    private static Optional<String> e2elOnly(RunData d, Table legs, String base, String w) {
        Double in = Charts.find(legs, base, Connection.NONE.wire(), w, "mean_e2el_ms"),
                http = Charts.find(legs, Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), w, "mean_e2el_ms");
        Confidence.Interval diff = Pairs.e2elDifference(
                d, Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), base, Connection.NONE.wire(), w);
        if (in == null || http == null) return Optional.empty();
        return Optional.of(String.format(
                Locale.ROOT,
                "**In-process has lower per-request overhead** — %s: on %s, %s %.2f ms vs one HTTP port %.2f ms "
                        + "(keep-alive), i.e. %+.2f ms per request. This run's requests carry no engine timings, so "
                        + "the difference includes the engine's compute variation between legs.",
                Verdict.describe(diff, Verdict.latencyThresholdMs(in), "ms"),
                w,
                base,
                in,
                http,
                http - in));
    }

    /** CPU ms per request of each process on the HTTP leg's path and on its baseline, where cpu.csv measured them. */
    private static String cpu(RunData d, String topology, String base) {
        return d.cpu()
                .map(c -> {
                    Double
                            client =
                                    Charts.find(
                                            c,
                                            topology,
                                            Connection.KEEP_ALIVE.wire(),
                                            first(c),
                                            "client_cpu_ms_per_request"),
                            serve =
                                    Charts.find(
                                            c,
                                            topology,
                                            Connection.KEEP_ALIVE.wire(),
                                            first(c),
                                            "server_cpu_ms_per_request"),
                            in = Charts.find(c, base, Connection.NONE.wire(), first(c), "client_cpu_ms_per_request");
                    if (client == null || serve == null || in == null) return "";
                    return String.format(
                            Locale.ROOT,
                            "; CPU per request on %s: client %.2f ms + serve %.2f ms against %.2f ms in-process "
                                    + "(client and engine in one JVM)",
                            first(c),
                            client,
                            serve,
                            in);
                })
                .orElse("");
    }

    private static String first(Table t) {
        return t.isEmpty() ? "" : t.stringColumn("workload").get(0);
    }

    /** The engine's own queueing, HTTP against in-process: set by how requests arrive, not by the transport. */
    private static Optional<String> engineQueue(RunData d, Table legs, String shortest) {
        String base = d.baseline(Topology.HTTP1.wire());
        if (base == null || !d.hasEngineTimings()) return Optional.empty();
        Confidence.Interval q = Pairs.overBaseline(
                d, Pairs.Metric.ENGINE_QUEUE, Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), null);
        if (q == null) return Optional.empty();
        return Optional.of(String.format(
                Locale.ROOT,
                "**Requests wait longer in the engine's queue over HTTP** — %s: %+.2f ms per request (one port with "
                        + "keep-alive minus %s, paired over every cell). The queue is the engine's, so this is how "
                        + "requests arrive at it (parsed one by one by serve, or submitted directly), not the "
                        + "transport's cost; the tax above leaves it out.",
                Verdict.describe(q, threshold(d, legs, Topology.HTTP1.wire(), shortest), "ms"),
                q.estimate(),
                base));
    }

    /** HTTP's tax relative to in-process e2el on the shortest vs the longest cell, each with its interval. */
    private static Optional<String> shortMatters(RunData d, Table legs, String shortest, String longest) {
        String base = d.baseline(Topology.HTTP1.wire());
        if (base == null || shortest.equals(longest)) return Optional.empty();
        Double inS = Charts.find(legs, base, Connection.NONE.wire(), shortest, "mean_e2el_ms"),
                inL = Charts.find(legs, base, Connection.NONE.wire(), longest, "mean_e2el_ms");
        Confidence.Interval
                s = Pairs.overBaseline(d, cost(d), Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), shortest),
                l = Pairs.overBaseline(d, cost(d), Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), longest);
        if (inS == null || inL == null || s == null || l == null) return Optional.empty();
        double sLo = s.low() / inS * 100,
                sHi = s.high() / inS * 100,
                lLo = l.low() / inL * 100,
                lHi = l.high() / inL * 100;
        // the two cells are measured independently: the difference of their relative taxes has a half-width of the
        // two half-widths in quadrature (normal approximation); overlapping intervals alone would be too strict
        double relS = s.estimate() / inS * 100, relL = l.estimate() / inL * 100, gap = relS - relL;
        double half = Math.hypot((sHi - sLo) / 2, (lHi - lLo) / 2);
        Confidence.Interval diff = new Confidence.Interval(gap, gap - half, gap + half, 0.95);
        return Optional.of(String.format(
                Locale.ROOT,
                "**Overhead matters most for short prompts and completions** — %s: %s is %.1f %% of the "
                        + "in-process e2el (95 %% CI [%.1f, %.1f]) on %s but %.1f %% ([%.1f, %.1f]) on %s (%.2f ms vs "
                        + "%.2f ms absolute); difference %+.1f points.",
                Verdict.describe(diff, SHARE_THRESHOLD_POINTS, "points"),
                costName(d),
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
                gap));
    }

    /** The per-request cost findings compare: the tax where the engine reported its time, e2el where it did not. */
    private static Pairs.Metric cost(RunData d) {
        return d.hasEngineTimings() ? Pairs.Metric.TAX : Pairs.Metric.E2EL;
    }

    private static String costName(RunData d) {
        return d.hasEngineTimings() ? "HTTP's tax" : "the e2el difference (with the engine's compute variation)";
    }

    /** A share of e2el that moves by less than this many percentage points does not change a choice. */
    static final double SHARE_THRESHOLD_POINTS = 2.0;

    /** Leg a's tax minus leg b's on {@code w}, paired, against the latency threshold of b's baseline. */
    private static Optional<String> pair(
            RunData d, String claim, String ta, String ca, String tb, String cb, String w, String extra) {
        Pairs.Metric m = cost(d);
        Confidence.Interval diff = Pairs.difference(d, m, ta, ca, tb, cb, w);
        if (diff == null) return Optional.empty();
        Double e2el = Charts.find(d.legs(), tb, cb, w, "mean_e2el_ms");
        return Optional.of(String.format(
                Locale.ROOT,
                "%s — %s: %s %s %s %.2f ms vs %s %s %.2f ms on %s (%+.2f ms per request, paired)%s.",
                claim,
                Verdict.describe(diff, Verdict.latencyThresholdMs(e2el == null ? Double.NaN : e2el), "ms"),
                costName(d),
                ta,
                ca,
                Pairs.mean(d, m, ta, ca, w),
                tb,
                cb,
                Pairs.mean(d, m, tb, cb, w),
                w,
                diff.estimate(),
                extra));
    }

    /**
     * N ports against one port on throughput, paired round by round, where the ports run on more than one host; on one
     * host more ports add engines but no compute, so there is nothing to show and the finding says so.
     */
    private static Optional<String> scaleOut(RunData d, Table legs, String w) {
        Double t1 = Charts.find(legs, Topology.HTTP1.wire(), Connection.KEEP_ALIVE.wire(), w, "output_throughput"),
                tn = Charts.find(legs, Topology.HTTP_N.wire(), Connection.KEEP_ALIVE.wire(), w, "output_throughput");
        if (t1 == null || tn == null) return Optional.empty();
        int cores = d.run().map(r -> r.path("machine").path("cores").asInt(0)).orElse(0);
        boolean oneHost = d.run()
                .map(r -> !r.path("config").has("fleet")
                        && !r.path("config").path("external_targets").asBoolean(false))
                .orElse(true);
        if (oneHost)
            return Optional.of(String.format(
                    Locale.ROOT,
                    "**HTTP fanout scales out** — this machine cannot show it; see `sim`: every port here shares "
                            + "this machine's %d cores, so more ports add engines but no compute (on %s: N ports "
                            + "%.1f tok/s, one port %.1f tok/s, given for the record, not as evidence). "
                            + "`./jbang sim@. sweep` predicts a pod of hosts.",
                    cores,
                    w,
                    tn,
                    t1));
        Confidence.Interval diff = Pairs.roundDifference(
                d,
                Topology.HTTP_N.wire(),
                Connection.KEEP_ALIVE.wire(),
                Topology.HTTP1.wire(),
                Connection.KEEP_ALIVE.wire(),
                w,
                "output_throughput");
        return Optional.of(String.format(
                Locale.ROOT,
                "**HTTP fanout scales out** — %s: on %s, N ports with client fanout %.1f tok/s vs one port "
                        + "%.1f tok/s%s.",
                diff == null
                        ? Verdict.UNDECIDED.word() + " (fewer than two rounds)"
                        : Verdict.describe(diff, Verdict.throughputThreshold(t1), "tok/s"),
                w,
                tn,
                t1,
                Pairs.describe(diff, "tok/s")));
    }

    private static double orNaN(Double x) {
        return x == null ? Double.NaN : x;
    }
}
