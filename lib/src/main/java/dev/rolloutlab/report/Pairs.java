package dev.rolloutlab.report;

import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Connection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import tech.tablesaw.api.Row;

/**
 * Paired differences between two legs of one run: every topology is sent the same prompts in the same order (the
 * workload is seeded by its cell), so request i of round r on one leg pairs with request i of round r on the other.
 * Requests in flight together share engine batches, so their latencies are not independent: the differences are
 * averaged over blocks of {@code concurrency} consecutive requests (batch means), and the block means get a t interval.
 * The tax's difference is the interquartile mean of the pairs instead, its interval a bootstrap over whole blocks: the
 * path's cost is a millisecond or two, and a mean of it moves with how many of the VM's rare multi-millisecond stalls a
 * run happened to catch (over three runs its cells agreed within 10 % in 9 of 24 cells as a mean, 18 of 24 as an
 * interquartile mean). Throughputs pair round by round.
 */
final class Pairs {
    private Pairs() {}

    /** A per-request figure in ms, read from a row of {@code requests.jsonl}; NaN where the row lacks it. */
    enum Metric {
        /** End-to-end latency: moves with the engine's compute noise as much as with the path around it. */
        E2EL,
        /**
         * e2el minus the engine's own queue, prefill and decode: the path's cost, which compute noise cannot move;
         * paired by its interquartile mean.
         */
        TAX,
        /** The engine's own queueing: set by how requests arrive, not by the transport. */
        ENGINE_QUEUE;

        double of(Row r) {
            double e2el = r.getNumber("e2el_ms");
            return switch (this) {
                case E2EL -> e2el;
                case TAX ->
                    r.isMissing("server_timing_decode_ms")
                            ? Double.NaN
                            : e2el
                                    - zero(r, "server_timing_queue_ms")
                                    - zero(r, "server_timing_prefill_ms")
                                    - r.getNumber("server_timing_decode_ms");
                case ENGINE_QUEUE ->
                    r.isMissing("server_timing_decode_ms") ? Double.NaN : zero(r, "server_timing_queue_ms");
            };
        }

        private static double zero(Row r, String column) {
            return r.isMissing(column) ? 0 : r.getNumber(column);
        }
    }

    /**
     * a − b in ms over the requests both legs completed on {@code workload} ("in=8 out=1"); null when there are no
     * pairs.
     */
    static Confidence.Interval e2elDifference(
            RunData d, String topoA, String connA, String topoB, String connB, String workload) {
        return difference(d, Metric.E2EL, topoA, connA, topoB, connB, workload);
    }

    /**
     * a - b of {@code metric} in ms over the requests both legs completed, on {@code workload} ("in=8 out=1") or, when
     * it is null, on every workload of the run; null with fewer than two blocks of pairs.
     */
    static Confidence.Interval difference(
            RunData d, Metric metric, String topoA, String connA, String topoB, String connB, String workload) {
        Map<Pair, Double> a = leg(d, metric, topoA, connA, workload), b = leg(d, metric, topoB, connB, workload);
        a.keySet().retainAll(b.keySet());
        if (a.size() < 2) return null;
        long block = Math.max(
                1,
                d.run().map(r -> r.path("config").path("concurrency").asLong(1)).orElse(1L));
        Map<Pair, Long> blocks = new HashMap<>(), rounds = new HashMap<>();
        long[] keys = new long[a.size()], roundKeys = new long[a.size()];
        double[] xa = new double[a.size()], xb = new double[a.size()];
        int i = 0;
        for (var e : a.entrySet()) {
            Pair p = e.getKey();
            keys[i] = blocks.computeIfAbsent(new Pair(p.cell, p.round, p.id / block), k -> (long) blocks.size());
            roundKeys[i] = rounds.computeIfAbsent(new Pair(p.cell, p.round, 0), k -> (long) rounds.size());
            xa[i] = e.getValue();
            xb[i++] = b.get(p);
        }
        if (blocks.size() < 2) return null;
        return metric == Metric.TAX
                ? Confidence.blockedInterquartileDifference(roundKeys, keys, xa, xb, 2000, 17, 0.95)
                : Confidence.blockedDifference(keys, xa, xb, 0.95);
    }

    /** The mean of {@code metric} over a leg's completed requests, on {@code workload} or (null) on every one. */
    static double mean(RunData d, Metric metric, String topology, String connection, String workload) {
        return leg(d, metric, topology, connection, workload).values().stream()
                .mapToDouble(Double::doubleValue)
                .average()
                .orElse(Double.NaN);
    }

    static double mean(RunData d, Metric metric, String topology, String connection) {
        return mean(d, metric, topology, connection, null);
    }

    /**
     * The leg's {@code metric} minus its in-process baseline's ({@link RunData#baseline}), paired; null without a
     * baseline or pairs.
     */
    static Confidence.Interval overBaseline(
            RunData d, Metric metric, String topology, String connection, String workload) {
        String base = d.baseline(topology);
        return base == null
                ? null
                : difference(d, metric, topology, connection, base, Connection.NONE.wire(), workload);
    }

    /** What pairs two legs' requests: the same cell, round and request id. */
    private record Pair(String cell, long round, long id) {}

    private static Map<Pair, Double> leg(RunData d, Metric metric, String topology, String connection, String w) {
        Map<Pair, Double> m = new LinkedHashMap<>();
        for (Row r : d.requests()) {
            if (!r.getBoolean("ok")
                    || !r.getString("topology").equals(topology)
                    || !r.getString("connection").equals(connection)) continue;
            String cell = "in=" + (int) r.getNumber("prompt_tokens") + " out=" + (int) r.getNumber("completion_tokens");
            if (w != null && !w.equals(cell)) continue;
            double x = metric.of(r);
            if (Double.isNaN(x)) continue;
            long round = r.isMissing("round") ? 0 : (long) r.getNumber("round");
            m.put(new Pair(cell, round, (long) r.getNumber("request_id")), x);
        }
        return m;
    }

    /**
     * a − b in {@code column} (a throughput) on {@code workload}, paired round by round; null with fewer than two
     * rounds.
     */
    static Confidence.Interval roundDifference(
            RunData d, String topoA, String connA, String topoB, String connB, String workload, String column) {
        Map<Integer, Double> a = rounds(d, topoA, connA, workload, column),
                b = rounds(d, topoB, connB, workload, column);
        a.keySet().retainAll(b.keySet());
        if (a.size() < 2) return null;
        double[] xa = new double[a.size()], xb = new double[a.size()];
        int i = 0;
        for (var e : a.entrySet()) {
            xa[i] = e.getValue();
            xb[i++] = b.get(e.getKey());
        }
        return Confidence.pairedDifference(xa, xb, 0.95);
    }

    private static Map<Integer, Double> rounds(
            RunData d, String topology, String connection, String workload, String column) {
        Map<Integer, Double> m = new TreeMap<>();
        for (Row r : d.legRounds()) {
            if (!r.getString("topology").equals(topology)
                    || !r.getString("connection").equals(connection)
                    || !r.getString("workload").equals(workload)) continue;
            if (!r.isMissing(column) && !Double.isNaN(r.getNumber(column)))
                m.put((int) r.getNumber("round"), r.getNumber(column));
        }
        return m;
    }

    static String describe(Confidence.Interval diff) {
        return describe(diff, "ms");
    }

    static String describe(Confidence.Interval diff, String unit) {
        return diff == null
                ? ""
                : String.format(
                        Locale.ROOT,
                        "; paired difference %+.2f %s, 95%% CI [%.2f, %.2f]",
                        diff.estimate(),
                        unit,
                        diff.low(),
                        diff.high());
    }
}
