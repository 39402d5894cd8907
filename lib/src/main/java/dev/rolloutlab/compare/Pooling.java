package dev.rolloutlab.compare;

import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.RequestRecord;
import dev.rolloutlab.results.Slo;
import dev.rolloutlab.results.Summary;
import dev.rolloutlab.results.SweepPoint;
import dev.rolloutlab.results.Throughput;
import dev.rolloutlab.results.Topology;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * Pools the rounds of a repeated run into one row per leg and cell: latencies over every request of every round
 * (bootstrap intervals), throughputs as the mean of the rounds with a t interval across them, since a round is the unit
 * that repeats. Also fills in each row's overhead over its equal-compute in-process baseline, and finds the widest
 * headline interval for {@code --until-ci}.
 */
final class Pooling {
    /** The widest headline interval so far, as a percentage of its estimate, and which one it is. */
    record Widest(String what, double pct) {}

    /**
     * A leg's first round on a cell that was still warming up, left out of the pooled row and the paired findings: its
     * mean e2el exceeds the slowest later round's by more than twice the later rounds' own range and by more than
     * {@value #WARMING_PCT} %. A first round as noisy as a cloud VM's rounds (±25 %) stays in; only one that stands
     * apart from every later round is out (one seen at 657 ms against 245 and 197 ms after it).
     */
    record WarmingRound(
            Topology topology,
            Connection connection,
            String workload,
            int round,
            double meanE2elMs,
            double laterMaxMs,
            double laterRangeMs) {}

    static final int WARMING_PCT = 50;

    /**
     * The rounds pooled as the results show them: the still-warming first rounds left out of the pooled rows and of the
     * records behind them. The stop rule judges these rows, so the interval it stops on is one the results carry.
     */
    record Pooled(List<WarmingRound> warming, Map<String, List<RequestRecord>> counted, List<Summary> rows) {}

    private Pooling() {}

    /**
     * Pools {@code perRound} (with {@code byCell}'s records, keyed like {@link #key(Summary)}) as the results show it.
     */
    static Pooled pool(List<Summary> perRound, Map<String, List<RequestRecord>> byCell) {
        List<WarmingRound> warming = warmingFirstRounds(perRound);
        Map<String, List<RequestRecord>> counted = withoutRecords(byCell, warming);
        return new Pooled(warming, counted, aggregate(without(perRound, warming), counted));
    }

    /** The first rounds of legs and cells that were still warming (at least three rounds are needed to tell). */
    static List<WarmingRound> warmingFirstRounds(List<Summary> perRound) {
        Map<String, List<Summary>> byKey = new LinkedHashMap<>();
        for (Summary s : perRound)
            byKey.computeIfAbsent(key(s), k -> new ArrayList<>()).add(s);
        List<WarmingRound> out = new ArrayList<>();
        byKey.forEach((k, rounds) -> {
            Summary first =
                    rounds.stream().filter(r -> r.round() == 1).findFirst().orElse(null);
            double[] later = rounds.stream()
                    .filter(r -> r.round() > 1)
                    .mapToDouble(r -> r.e2el().mean().estimate())
                    .filter(x -> !Double.isNaN(x))
                    .toArray();
            if (first == null || later.length < 2) return;
            double max = Arrays.stream(later).max().orElseThrow(),
                    min = Arrays.stream(later).min().orElseThrow();
            double r1 = first.e2el().mean().estimate();
            if (r1 > max + 2 * (max - min) && r1 > max * (1 + WARMING_PCT / 100.0))
                out.add(new WarmingRound(
                        first.topology(), first.connection(), first.workload(), 1, r1, max, max - min));
        });
        return out;
    }

    /** {@code rows} without the rounds in {@code left}. */
    static List<Summary> without(List<Summary> rows, List<WarmingRound> left) {
        return rows.stream()
                .filter(s -> left.stream()
                        .noneMatch(
                                w -> matches(w, s.topology(), s.connection(), s.workload()) && w.round() == s.round()))
                .toList();
    }

    /** {@code byCell}'s records without those of the rounds in {@code left}. */
    static Map<String, List<RequestRecord>> withoutRecords(
            Map<String, List<RequestRecord>> byCell, List<WarmingRound> left) {
        Map<String, List<RequestRecord>> out = new HashMap<>();
        byCell.forEach((k, recs) -> out.put(
                k,
                recs.stream()
                        .filter(r -> left.stream()
                                .noneMatch(w -> key(w.topology(), w.connection(), w.workload())
                                                .equals(k)
                                        && w.round() == r.round()))
                        .toList()));
        return out;
    }

    private static boolean matches(WarmingRound w, Topology t, Connection c, String workload) {
        return w.topology() == t && w.connection() == c && w.workload().equals(workload);
    }

    /**
     * A throughput's t interval across rounds, cut at 0: over two or three rounds that differ it reaches below zero,
     * where no throughput lies.
     */
    private static Confidence.Interval throughput(List<Summary> rounds, ToDoubleFunction<Throughput> f) {
        return Confidence.tMean(
                        rounds.stream()
                                .mapToDouble(r -> f.applyAsDouble(r.throughput()))
                                .toArray(),
                        0.95)
                .atLeast(0);
    }

    /**
     * One round-0 row per leg and cell, in first-measured order; {@code records} is keyed like {@link #key(Summary)}.
     */
    static List<Summary> aggregate(List<Summary> perRound, Map<String, List<RequestRecord>> records) {
        Map<String, List<Summary>> byKey = new LinkedHashMap<>();
        for (Summary s : perRound)
            byKey.computeIfAbsent(key(s), k -> new ArrayList<>()).add(s);
        List<Summary> out = new ArrayList<>();
        byKey.forEach((k, rounds) -> {
            Summary first = rounds.get(0);
            double duration = rounds.stream().mapToDouble(Summary::durationS).sum();
            boolean incomplete = rounds.stream().anyMatch(Summary::incomplete);
            Confidence.Interval req = throughput(rounds, t -> t.requests().estimate()),
                    tok = throughput(rounds, t -> t.outputTokens().estimate());
            Summary pooled = Summary.of(
                    first.topology(),
                    first.connection(),
                    first.workload(),
                    records.getOrDefault(k, List.of()),
                    duration,
                    Slo.NONE,
                    incomplete);
            out.add(pooled.withThroughput(
                    new Throughput(req, tok, pooled.throughput().goodput())));
        });
        return out;
    }

    static String key(Summary s) {
        return key(s.topology(), s.connection(), s.workload());
    }

    static String key(Topology topology, Connection connection, String workload) {
        return topology + "|" + connection + "|" + workload;
    }

    /**
     * Each row with its mean e2el minus its baseline's on the same workload in the same round (or pooled), and that
     * difference's paired interval: request i against request i, averaged over blocks of {@code concurrency}
     * consecutive requests (requests in flight together share engine batches), t over the blocks.
     */
    static List<Summary> withOverheads(List<Summary> rows, Map<String, List<RequestRecord>> records, int concurrency) {
        Map<String, Double> base = new HashMap<>();
        Set<Topology> ran = EnumSet.noneOf(Topology.class);
        for (Summary s : rows) {
            ran.add(s.topology());
            if (s.topology().inProcess())
                base.put(
                        s.topology() + "|" + s.workload() + "|" + s.round(),
                        s.e2el().mean().estimate());
        }
        List<Summary> out = new ArrayList<>(rows.size());
        for (Summary s : rows) {
            Topology b = s.topology().baselineAmong(ran).orElse(null);
            Double m = b == null ? null : base.get(b + "|" + s.workload() + "|" + s.round());
            if (m == null) {
                out.add(s);
                continue;
            }
            Confidence.Interval ci = paired(
                    records.getOrDefault(key(s), List.of()),
                    records.getOrDefault(key(b, Connection.NONE, s.workload()), List.of()),
                    s.round(),
                    concurrency);
            out.add(s.withOverhead(s.e2el().mean().estimate() - m, ci));
        }
        return out;
    }

    /**
     * a - b over the requests both completed (in {@code round}, or every round for 0); null with fewer than two blocks.
     */
    private static Confidence.Interval paired(
            List<RequestRecord> a, List<RequestRecord> b, int round, int concurrency) {
        Map<Long, Double> bs = new HashMap<>();
        for (RequestRecord r : b)
            if (r.ok() && (round == 0 || r.round() == round))
                bs.put((long) r.round() << 32 | r.requestId(), r.e2elMs());
        List<long[]> keys = new ArrayList<>();
        List<double[]> pairs = new ArrayList<>();
        for (RequestRecord r : a) {
            Double y = r.ok() && (round == 0 || r.round() == round)
                    ? bs.get((long) r.round() << 32 | r.requestId())
                    : null;
            if (y == null) continue;
            keys.add(new long[] {(long) r.round() << 32 | r.requestId() / Math.max(1, concurrency)});
            pairs.add(new double[] {r.e2elMs(), y});
        }
        if (keys.stream().map(k -> k[0]).distinct().count() < 2) return null;
        return Confidence.blockedDifference(
                keys.stream().mapToLong(k -> k[0]).toArray(),
                pairs.stream().mapToDouble(p -> p[0]).toArray(),
                pairs.stream().mapToDouble(p -> p[1]).toArray(),
                0.95);
    }

    /** Throughput per concurrency pooled like {@link #aggregate}: the mean of the rounds with its t interval. */
    static List<SweepPoint> aggregateSweep(List<SweepPoint> perRound) {
        Map<String, List<SweepPoint>> byKey = new LinkedHashMap<>();
        for (SweepPoint p : perRound)
            byKey.computeIfAbsent(p.topology() + "|" + p.concurrency(), k -> new ArrayList<>())
                    .add(p);
        List<SweepPoint> out = new ArrayList<>();
        byKey.forEach((k, ps) -> {
            Confidence.Interval tok = Confidence.tMean(
                            ps.stream()
                                    .mapToDouble(SweepPoint::outputThroughput)
                                    .toArray(),
                            0.95)
                    .atLeast(0);
            out.add(new SweepPoint(
                    ps.get(0).topology(),
                    ps.get(0).concurrency(),
                    0,
                    ps.stream()
                            .mapToDouble(SweepPoint::requestThroughput)
                            .average()
                            .orElse(Double.NaN),
                    tok.estimate(),
                    tok.low(),
                    tok.high(),
                    ps.stream().mapToDouble(SweepPoint::meanE2elMs).average().orElse(Double.NaN),
                    ps.stream().mapToDouble(SweepPoint::p99E2elMs).max().orElse(Double.NaN)));
        });
        return out;
    }

    /** The widest 95 % interval among the pooled rows' mean e2el and output throughput, relative to its estimate. */
    static Widest widest(List<Summary> pooled) {
        Widest w = new Widest("none", 0);
        for (Summary s : pooled) {
            String leg = s.topology() + " " + s.connection() + " " + s.workload();
            w = wider(
                    w,
                    leg + " mean e2el",
                    s.e2el().mean().low(),
                    s.e2el().mean().high(),
                    s.e2el().mean().estimate());
            w = wider(
                    w,
                    leg + " output throughput",
                    s.throughput().outputTokens().low(),
                    s.throughput().outputTokens().high(),
                    s.throughput().outputTokens().estimate());
        }
        return w;
    }

    private static Widest wider(Widest w, String what, double low, double high, double estimate) {
        // an interval that could not be computed (one round) is as wide as it gets: more rounds are needed
        double pct = Double.isNaN(low) || Double.isNaN(high)
                ? Double.POSITIVE_INFINITY
                : (high - low) / 2 / Math.abs(estimate) * 100;
        return pct > w.pct() ? new Widest(what, pct) : w;
    }

    static String describe(Widest w) {
        return Double.isInfinite(w.pct())
                ? w.what() + " has no interval yet"
                : String.format(Locale.ROOT, "±%.1f %% (%s)", w.pct(), w.what());
    }
}
