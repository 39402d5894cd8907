package dev.rolloutlab.report;

import dev.rolloutlab.results.Confidence;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import tech.tablesaw.api.Row;

/**
 * Paired differences between two legs of one run: every topology is sent the same prompts in the same order (the
 * workload is seeded by its cell), so request i of round r on one leg pairs with request i of round r on the other.
 * Requests in flight together share engine batches, so their latencies are not independent: the differences are
 * averaged over blocks of {@code concurrency} consecutive requests (batch means), and the block means get a t interval.
 * Throughputs pair round by round. A finding is "confirmed" only when the interval excludes zero.
 */
final class Pairs {
    private Pairs() {}

    /**
     * a − b in ms over the requests both legs completed on {@code workload} ("in=8 out=1"); null when there are no
     * pairs.
     */
    static Confidence.Interval e2elDifference(
            RunData d, String topoA, String connA, String topoB, String connB, String workload) {
        int in, out;
        try {
            String[] parts = workload.split(" ");
            in = Integer.parseInt(parts[0].substring(3));
            out = Integer.parseInt(parts[1].substring(4));
        } catch (RuntimeException e) {
            return null;
        }
        Map<Long, Double> a = leg(d, topoA, connA, in, out), b = leg(d, topoB, connB, in, out);
        a.keySet().retainAll(b.keySet());
        if (a.size() < 2) return null;
        long block = Math.max(
                1,
                d.run().map(r -> r.path("config").path("concurrency").asLong(1)).orElse(1L));
        long[] keys = new long[a.size()];
        double[] xa = new double[a.size()], xb = new double[a.size()];
        int i = 0;
        for (var e : a.entrySet()) {
            long round = e.getKey() >>> 32, id = e.getKey() & 0xffffffffL;
            keys[i] = round << 32 | id / block;
            xa[i] = e.getValue();
            xb[i++] = b.get(e.getKey());
        }
        if (Arrays.stream(keys).distinct().count() < 2) return null;
        return Confidence.blockedDifference(keys, xa, xb, 0.95);
    }

    private static Map<Long, Double> leg(RunData d, String topology, String connection, int in, int out) {
        Map<Long, Double> m = new TreeMap<>();
        for (Row r : d.requests()) {
            if (!r.getBoolean("ok")
                    || !r.getString("topology").equals(topology)
                    || !r.getString("connection").equals(connection)) continue;
            if ((int) r.getNumber("prompt_tokens") != in || (int) r.getNumber("completion_tokens") != out) continue;
            long round = r.isMissing("round") ? 0 : (long) r.getNumber("round");
            m.put(round << 32 | (long) r.getNumber("request_id"), r.getNumber("e2el_ms"));
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

    static String verdict(Confidence.Interval diff) {
        return diff == null ? "not distinguishable: no paired requests" : Confidence.verdict(diff, "ms");
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
