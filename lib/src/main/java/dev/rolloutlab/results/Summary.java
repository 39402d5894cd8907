package dev.rolloutlab.results;

import dev.rolloutlab.results.Confidence.Interval;
import java.util.Arrays;
import java.util.List;

/**
 * A leg's figures on one workload in one round, in vLLM's benchmark terms. {@code round} 0 is a run without rounds, or
 * the row that pools every round (its throughput intervals are then across rounds). {@code overhead}, the mean e2el
 * over the equal-compute in-process baseline with its paired interval, is filled in by {@code compare}; {@code tax} is
 * the mean of {@link RequestRecord#taxMs()}, what the path around the engine cost, with its bootstrap interval.
 * {@link SummaryRow} is its line in {@code summary.csv}.
 */
public record Summary(
        Leg leg,
        int round,
        int completed,
        int failed,
        double durationS,
        Throughput throughput,
        Latency ttft,
        Latency tpot,
        Latency itl,
        Latency e2el,
        double meanE2elFromDispatchMs,
        double meanConnectMs,
        Interval overhead,
        Interval tax,
        boolean incomplete) {

    public Topology topology() {
        return leg.topology();
    }

    public Connection connection() {
        return leg.connection();
    }

    public String workload() {
        return leg.workload();
    }

    /**
     * The figures of {@code records}, sent over {@code durationS}; goodput counts the requests that met {@code slo}.
     */
    public static Summary of(
            Topology topology,
            Connection connection,
            String workload,
            List<RequestRecord> records,
            double durationS,
            Slo slo,
            boolean incomplete) {
        List<RequestRecord> ok = records.stream().filter(RequestRecord::ok).toList();
        // requests whose token count is unknown (no usage, no tokenizer) cannot count towards output throughput
        boolean anyCount = ok.stream().anyMatch(r -> r.completionTokens() >= 0);
        double outTokens = anyCount
                ? ok.stream().mapToInt(r -> Math.max(0, r.completionTokens())).sum()
                : Double.NaN;
        double[] ttft = sorted(ok.stream().mapToDouble(RequestRecord::ttftMs).toArray());
        double[] tpot = sorted(ok.stream().mapToDouble(RequestRecord::tpotMs).toArray());
        double[] e2el = sorted(ok.stream().mapToDouble(RequestRecord::e2elMs).toArray());
        int gaps = 0;
        for (RequestRecord r : ok) gaps += r.itlMs() == null ? 0 : r.itlMs().length;
        double[] itl = new double[gaps];
        int k = 0;
        for (RequestRecord r : ok) if (r.itlMs() != null) for (float g : r.itlMs()) itl[k++] = g;
        Arrays.sort(itl);
        double d = Math.max(durationS, 1e-9);
        long good = ok.stream().filter(slo::met).count();
        return new Summary(
                new Leg(topology, connection, workload),
                0,
                ok.size(),
                records.size() - ok.size(),
                durationS,
                new Throughput(Interval.point(ok.size() / d), Interval.point(outTokens / d), good / d),
                Latency.withIntervals(ttft, 1, 0),
                Latency.of(tpot),
                Latency.of(itl),
                Latency.withIntervals(e2el, 2, 3),
                ok.stream()
                        .mapToDouble(RequestRecord::e2elFromDispatchMs)
                        .average()
                        .orElse(Double.NaN),
                ok.stream().mapToDouble(r -> r.connectNs() / 1e6).average().orElse(Double.NaN),
                Interval.NONE,
                tax(ok),
                incomplete);
    }

    private static Interval tax(List<RequestRecord> ok) {
        return taxOf(ok.stream()
                .mapToDouble(RequestRecord::taxMs)
                .filter(x -> !Double.isNaN(x))
                .toArray());
    }

    /** The mean tax of a leg's requests with its seeded bootstrap interval; {@link Interval#NONE} for none. */
    public static Interval taxOf(double[] taxesMs) {
        return taxesMs.length == 0 ? Interval.NONE : Confidence.bootstrapMean(taxesMs, Percentiles.BOOTSTRAP, 4, 0.95);
    }

    /** The known values of {@code xs}, sorted. */
    private static double[] sorted(double[] xs) {
        return Arrays.stream(xs).filter(x -> !Double.isNaN(x)).sorted().toArray();
    }

    /** This row in round {@code r}. */
    public Summary withRound(int r) {
        return new Summary(
                leg,
                r,
                completed,
                failed,
                durationS,
                throughput,
                ttft,
                tpot,
                itl,
                e2el,
                meanE2elFromDispatchMs,
                meanConnectMs,
                overhead,
                tax,
                incomplete);
    }

    /** This row with other rates (a pooled row's: the mean of the rounds with its interval across them). */
    public Summary withThroughput(Throughput t) {
        return new Summary(
                leg,
                round,
                completed,
                failed,
                durationS,
                t,
                ttft,
                tpot,
                itl,
                e2el,
                meanE2elFromDispatchMs,
                meanConnectMs,
                overhead,
                tax,
                incomplete);
    }

    /** This row with its overhead over a baseline and that overhead's paired 95 % interval (null: no interval). */
    public Summary withOverhead(double ms, Interval ci) {
        Interval o = ci == null ? Interval.point(ms) : new Interval(ms, ci.low(), ci.high(), ci.level());
        return new Summary(
                leg,
                round,
                completed,
                failed,
                durationS,
                throughput,
                ttft,
                tpot,
                itl,
                e2el,
                meanE2elFromDispatchMs,
                meanConnectMs,
                o,
                tax,
                incomplete);
    }
}
