package dev.rolloutlab.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.ServerTimings;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.RequestRecord;
import dev.rolloutlab.results.Slo;
import dev.rolloutlab.results.Summary;
import dev.rolloutlab.results.Topology;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Pooling rounds into one row per leg and cell, and each HTTP row's overhead over its equal-compute baseline. */
class PoolingTest {
    static final String CELL = "in=8 out=1";

    @Test
    void anHttpRowsOverheadIsItsMeanMinusItsEqualComputeBaselinesWithAPairedInterval() {
        // http1 is exactly 2 ms slower than inproc on every request; httpN has no inprocN, so it falls back to inproc
        List<RequestRecord> in = records(Topology.INPROC, Connection.NONE, 0),
                http = records(Topology.HTTP1, Connection.KEEP_ALIVE, 2);
        List<RequestRecord> n = records(Topology.HTTP_N, Connection.KEEP_ALIVE, 5);
        Map<String, List<RequestRecord>> byCell = Map.of(
                Pooling.key(Topology.INPROC, Connection.NONE, CELL), in,
                Pooling.key(Topology.HTTP1, Connection.KEEP_ALIVE, CELL), http,
                Pooling.key(Topology.HTTP_N, Connection.KEEP_ALIVE, CELL), n);
        List<Summary> rows = List.of(
                row(Topology.INPROC, Connection.NONE, in),
                row(Topology.HTTP1, Connection.KEEP_ALIVE, http),
                row(Topology.HTTP_N, Connection.KEEP_ALIVE, n));
        List<Summary> out = Pooling.withOverheads(rows, byCell, 4);
        assertTrue(Double.isNaN(out.get(0).overhead().estimate()), "a baseline has no overhead over itself");
        assertEquals(2.0, out.get(1).overhead().estimate(), 1e-9);
        assertEquals(2.0, out.get(1).overhead().low(), 1e-9, "every pair differs by exactly 2 ms");
        assertEquals(5.0, out.get(2).overhead().estimate(), 1e-9, "httpN against inproc when inprocN did not run");
    }

    @Test
    void theWidestIntervalIsNamedAndAnUncomputableOneIsInfinite() {
        Summary oneRound =
                row(Topology.HTTP1, Connection.KEEP_ALIVE, records(Topology.HTTP1, Connection.KEEP_ALIVE, 0));
        Pooling.Widest w = Pooling.widest(List.of(oneRound));
        assertEquals(
                Double.POSITIVE_INFINITY, w.pct(), "one round gives no throughput interval: more rounds are needed");
        assertTrue(Pooling.describe(w).contains("has no interval yet"), Pooling.describe(w));
    }

    @Test
    void aFirstRoundThatStandsApartFromEveryLaterRoundIsLeftOutAndANoisyOneIsNot() {
        // round means of 657, 245 and 197 ms (seen on a cloud VM): round 1 is 2.7x the slowest later one
        List<Summary> warming = rounds(Topology.LB, Connection.CLOSE, 657 - 17.5, 245 - 17.5, 197 - 17.5);
        // ±25 % between rounds, the first the slowest: noise, not a warm-up
        List<Summary> noisy = rounds(Topology.HTTP1, Connection.KEEP_ALIVE, 125 - 17.5, 100 - 17.5, 80 - 17.5);
        List<Summary> all = new ArrayList<>(warming);
        all.addAll(noisy);
        List<Pooling.WarmingRound> out = Pooling.warmingFirstRounds(all);
        assertEquals(1, out.size(), out.toString());
        assertEquals(Topology.LB, out.get(0).topology());
        assertEquals(657, out.get(0).meanE2elMs(), 1e-9);
        assertEquals(245, out.get(0).laterMaxMs(), 1e-9);
        List<Summary> kept = Pooling.without(all, out);
        assertEquals(5, kept.size(), "only the warming round is left out");
        assertTrue(kept.stream().noneMatch(x -> x.topology() == Topology.LB && x.round() == 1));
        Map<String, List<RequestRecord>> byCell = Map.of(
                Pooling.key(Topology.LB, Connection.CLOSE, CELL),
                warming.stream()
                        .flatMap(x -> recordsOfRound(Topology.LB, Connection.CLOSE, x.round()))
                        .toList());
        assertEquals(
                32,
                Pooling.withoutRecords(byCell, out)
                        .get(Pooling.key(Topology.LB, Connection.CLOSE, CELL))
                        .size(),
                "rounds 2 and 3 keep their 16 requests each");
    }

    @Test
    void theRowsTheStopRuleJudgesAreTheRowsTheResultsCarryWithoutTheWarmingRound() {
        double[] offsets = {657 - 17.5, 245 - 17.5, 197 - 17.5};
        List<Summary> perRound = rounds(Topology.LB, Connection.CLOSE, offsets);
        List<RequestRecord> recs = new ArrayList<>();
        for (int r = 1; r <= offsets.length; r++)
            for (RequestRecord x : records(Topology.LB, Connection.CLOSE, offsets[r - 1])) recs.add(x.withRound(r));
        Map<String, List<RequestRecord>> byCell = Map.of(Pooling.key(Topology.LB, Connection.CLOSE, CELL), recs);
        Pooling.Pooled p = Pooling.pool(perRound, byCell);
        assertEquals(1, p.warming().size(), p.warming().toString());
        assertEquals(1, p.rows().size());
        // rounds 2 and 3 only: (245 + 197) / 2, not the 366 ms all three rounds would pool to
        assertEquals(221, p.rows().get(0).e2el().mean().estimate(), 1e-6);
        assertNotEquals(
                Pooling.widest(Pooling.aggregate(perRound, byCell)).pct(),
                Pooling.widest(p.rows()).pct(),
                "the interval judged is the two kept rounds', not all three's");
    }

    /** One row per round whose requests take 10..25 ms plus {@code offsets[r - 1]}: a mean of 17.5 + offset. */
    private static List<Summary> rounds(Topology t, Connection c, double... offsets) {
        List<Summary> out = new ArrayList<>();
        for (int r = 1; r <= offsets.length; r++)
            out.add(row(t, c, records(t, c, offsets[r - 1])).withRound(r));
        return out;
    }

    private static Stream<RequestRecord> recordsOfRound(Topology t, Connection c, int round) {
        return records(t, c, 0).stream().map(x -> x.withRound(round));
    }

    /** 16 requests of 10 + i ms (+ {@code extraMs}), the same ids on every leg so they pair. */
    private static List<RequestRecord> records(Topology t, Connection c, double extraMs) {
        List<RequestRecord> out = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            long end = (long) ((10 + i + extraMs) * 1e6);
            out.add(new RequestRecord(
                    t,
                    c,
                    1,
                    "b",
                    i,
                    1,
                    8,
                    1,
                    0,
                    0,
                    0,
                    end / 2,
                    end,
                    0,
                    200,
                    null,
                    null,
                    CompletionRequest.Endpoint.COMPLETIONS,
                    false,
                    RequestRecord.USAGE,
                    ServerTimings.NONE));
        }
        return out;
    }

    private static Summary row(Topology t, Connection c, List<RequestRecord> r) {
        return Summary.of(t, c, CELL, r, 1.0, Slo.NONE, false).withRound(0);
    }
}
