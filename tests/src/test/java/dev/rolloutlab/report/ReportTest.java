package dev.rolloutlab.report;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Verdict;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The report of a stored results fixture (a --quick run), checked against numbers computed here from its raw requests.
 */
@Tag("fast") // the edit loop: tests/run --fast
class ReportTest {
    static Path fixtureCopy() throws Exception {
        return fixtureCopy("results-quick");
    }

    static Path fixtureCopy(String name) throws Exception {
        Path src = Path.of("src/test/resources/fixtures").resolve(name);
        Path dst = TestModels.tempDir("report");
        try (Stream<Path> s = Files.list(src)) {
            for (Path p : s.toList()) Files.copy(p, dst.resolve(p.getFileName()));
        }
        return dst;
    }

    /**
     * Mean end-to-end latency (ms, from the scheduled send) of one leg, computed here from requests.jsonl, not by the
     * report.
     */
    static double meanE2elMs(Path dir, String topology, String connection, int promptTokens, int completionTokens)
            throws Exception {
        double sum = 0;
        int n = 0;
        for (String line : Files.readAllLines(dir.resolve("requests.jsonl"))) {
            var r = Json.parse(line);
            if (r.path("topology").asText().equals(topology)
                    && r.path("connection").asText().equals(connection)
                    && r.path("prompt_tokens").asInt() == promptTokens
                    && r.path("completion_tokens").asInt() == completionTokens
                    && r.path("status").asInt() == 200) {
                sum += (r.path("end_ns").asLong() - r.path("scheduled_ns").asLong()) / 1e6;
                n++;
            }
        }
        assertTrue(n > 0, "no records for " + topology + " " + connection);
        return sum / n;
    }

    static long count(Path dir, String topology, String connection, int promptTokens, int completionTokens)
            throws Exception {
        return Files.readAllLines(dir.resolve("requests.jsonl")).stream()
                .filter(l -> l.contains("\"topology\":\"" + topology + "\"")
                        && l.contains("\"connection\":\"" + connection + "\"")
                        && l.contains("\"prompt_tokens\":" + promptTokens + ",")
                        && l.contains("\"completion_tokens\":" + completionTokens + ",")
                        && l.contains("\"status\":200"))
                .count();
    }

    @Test
    void theReportStatesTheNumbersOfItsRequests() throws Exception {
        Path a = fixtureCopy(), b = fixtureCopy();
        String first = Files.readString(Report.write(a));
        assertEquals(first, Files.readString(Report.write(b)), "the same results give the same report");
        double inproc = meanE2elMs(a, "inproc", "none", 8, 1), http1 = meanE2elMs(a, "http1", "keep-alive", 8, 1);
        String finding = String.format(Locale.ROOT, "inproc %.2f ms vs one HTTP port %.2f ms", inproc, http1);
        assertTrue(first.contains(finding), "expected \"" + finding + "\" in\n" + first);
        assertTrue(first.contains(String.format(Locale.ROOT, "i.e. +%.2f ms per request", http1 - inproc)), first);
        long completed = count(a, "inproc", "none", 8, 1);
        assertEquals(16, completed);
        assertTrue(first.contains("| inproc | none | in=8 out=1 | " + completed + " | 0 |"), first);
        for (String png : Report.PLOTS) {
            assertTrue(Files.size(a.resolve("plots").resolve(png)) > 1000, png);
            String svg = Files.readString(a.resolve("plots").resolve(png.replace(".png", ".svg")));
            assertTrue(svg.contains("<svg"), "an SVG beside " + png);
        }
    }

    /** e2el of each completed request of one leg, by request id (the legs send the same prompts in the same order). */
    static Map<Long, Double> e2el(Path dir, String topology, String connection, int in, int out) throws Exception {
        Map<Long, Double> m = new TreeMap<>();
        for (String line : Files.readAllLines(dir.resolve("requests.jsonl"))) {
            var r = Json.parse(line);
            if (r.path("topology").asText().equals(topology)
                    && r.path("connection").asText().equals(connection)
                    && r.path("prompt_tokens").asInt() == in
                    && r.path("completion_tokens").asInt() == out
                    && r.path("status").asInt() == 200) {
                m.put(
                        r.path("request_id").asLong(),
                        (r.path("end_ns").asLong() - r.path("scheduled_ns").asLong()) / 1e6);
            }
        }
        return m;
    }

    /**
     * Mean of a − b over 16 paired requests and its 95 % t half-width over batch means: the fixture ran at concurrency
     * 4, so requests 0-3, 4-7, 8-11 and 12-15 form the 4 blocks (scipy: t.ppf(0.975, 3) = 3.182446305284263).
     */
    static double[] pairedMeanAndHalfWidth(Map<Long, Double> a, Map<Long, Double> b) {
        assertEquals(16, a.size(), "the blocks below are for 16 pairs");
        double[] blocks = new double[4];
        for (long id : a.keySet()) blocks[(int) (id / 4)] += (a.get(id) - b.get(id)) / 4;
        double mean = Arrays.stream(blocks).average().orElseThrow(), ss = 0;
        for (double x : blocks) ss += (x - mean) * (x - mean);
        return new double[] {mean, 3.182446305284263 * Math.sqrt(ss / (blocks.length - 1)) / Math.sqrt(blocks.length)};
    }

    /**
     * The fixture's requests carry no engine timings, so the finding compares e2el, paired, and reads its verdict
     * against T = the larger of 1 ms and 2 % of the keep-alive leg's mean e2el; here its interval is computed from the
     * raw requests.
     */
    @Test
    void theCloseFindingStatesItsPairedIntervalAndTheVerdictOfItsThreshold() throws Exception {
        Path a = fixtureCopy();
        String report = Files.readString(Report.write(a));
        var close = e2el(a, "http1", "close", 8, 1);
        var keep = e2el(a, "http1", "keep-alive", 8, 1);
        assertEquals(16, close.size());
        double[] mh = pairedMeanAndHalfWidth(close, keep);
        double mean = mh[0], half = mh[1];
        String ci = String.format(Locale.ROOT, "95 %% CI [%.2f, %.2f] ms", mean - half, mean + half);
        String line = report.lines()
                .filter(l -> l.contains("`Connection: close` costs more"))
                .findFirst()
                .orElseThrow();
        assertTrue(line.contains(ci), "expected " + ci + " in " + line);
        double t = Verdict.latencyThresholdMs(meanE2elMs(a, "http1", "keep-alive", 8, 1));
        Verdict v = Verdict.of(new Confidence.Interval(mean, mean - half, mean + half, 0.95), t);
        assertTrue(line.contains("— " + v.word() + " ("), v + " expected in " + line);
        assertTrue(line.contains("e2el difference (with the engine's compute variation)"), line);
    }

    /** Each request's tax, e2el minus its engine's queue, prefill and decode, computed here from requests.jsonl. */
    static List<Double> taxes(Path dir, String topology, String connection, String workload) throws Exception {
        List<Double> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("requests.jsonl"))) {
            var r = Json.parse(line);
            var st = r.path("server_timing");
            if (!r.path("topology").asText().equals(topology)
                    || !r.path("connection").asText().equals(connection)
                    || r.path("status").asInt() != 200
                    || !st.path("decode_ms").isNumber()) continue;
            String cell = "in=" + r.path("prompt_tokens").asInt() + " out="
                    + r.path("completion_tokens").asInt();
            if (workload != null && !workload.equals(cell)) continue;
            double e2el = (r.path("end_ns").asLong() - r.path("scheduled_ns").asLong()) / 1e6;
            out.add(e2el
                    - st.path("queue_ms").asDouble(0)
                    - st.path("prefill_ms").asDouble(0)
                    - st.path("decode_ms").asDouble());
        }
        assertFalse(out.isEmpty(), "no timed requests for " + topology + " " + connection);
        return out;
    }

    static double mean(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    @Test
    void theOverheadFindingStatesTheTaxOfItsRequestsNotTheirE2el() throws Exception {
        Path a = fixtureCopy("results-engine-timings");
        String report = Files.readString(Report.write(a));
        String finding = String.format(
                Locale.ROOT,
                "averages %.2f ms per request on one HTTP port with keep-alive and %.2f ms in-process (inproc); "
                        + "paired request by request over every cell, the middle half of the differences averages",
                mean(taxes(a, "http1", "keep-alive", null)),
                mean(taxes(a, "inproc", "none", null)));
        String line = report.lines()
                .filter(l -> l.contains("**In-process has lower per-request overhead**"))
                .findFirst()
                .orElseThrow();
        assertTrue(line.contains(finding), "expected \"" + finding + "\" in\n" + line);
        assertTrue(line.matches(".*— (confirmed|contradicted|negligible|undecided at this run's noise) \\(.*"), line);
        assertTrue(report.contains("**Requests wait longer in the engine's queue over HTTP**"), report);
        assertTrue(
                report.contains("| tax difference (ms), 95 % CI | reading | e2el difference (ms, includes compute"),
                report);
    }

    /**
     * Throughput's whiskers are its t interval across rounds, drawn from three rounds on: over two, t = 12.7 put the
     * quick run's whiskers at −80,000 tokens/s and hid the bars.
     */
    @Test
    void throughputWhiskersNeedThreeRounds() throws Exception {
        Path a = fixtureCopy("results-engine-timings");
        RunData two = RunData.load(a);
        assertEquals(
                2, two.run().orElseThrow().path("config").path("rounds_run").asInt());
        var chart = Charts.throughput(two);
        assertTrue(chart.getTitle().contains("no interval drawn below three"), chart.getTitle());
        chart.getSeriesMap().values().forEach(sr -> assertNull(sr.getExtraValues(), sr.getName() + " has whiskers"));

        var run = (ObjectNode) Json.parse(Files.readString(a.resolve("run.json")));
        ((ObjectNode) run.path("config")).put("rounds_run", 3);
        Files.writeString(a.resolve("run.json"), run.toString());
        RunData three = RunData.load(a);
        chart = Charts.throughput(three);
        assertTrue(chart.getTitle().contains("whiskers: 95 % CI across rounds"), chart.getTitle());
        var series = chart.getSeriesMap().get("http1/keep-alive");
        double lo = Charts.find(three.legs(), "http1", "keep-alive", "in=8 out=1", "output_throughput_ci_low"),
                hi = Charts.find(three.legs(), "http1", "keep-alive", "in=8 out=1", "output_throughput_ci_high");
        assertEquals((hi - lo) / 2, series.getExtraValues().iterator().next().doubleValue(), 1e-9);
    }

    @Test
    void theTaxBarsAreEachLegsMeanTaxWithItsInterval() throws Exception {
        Path a = fixtureCopy("results-engine-timings");
        RunData d = RunData.load(a);
        var chart = Charts.overhead(d);
        for (String leg : List.of("http1/keep-alive", "inproc/none")) {
            String[] tc = leg.split("/");
            var series = chart.getSeriesMap().get(leg);
            List<Number> ys = new ArrayList<>(), whiskers = new ArrayList<>();
            series.getYData().forEach(ys::add);
            series.getExtraValues().forEach(whiskers::add);
            // the pooled row's tax is over every round's requests of the cell (summary.csv keeps 4 decimals)
            assertEquals(mean(taxes(a, tc[0], tc[1], "in=8 out=1")), ys.get(0).doubleValue(), 1e-3, leg);
            double lo = Charts.find(d.legs(), tc[0], tc[1], "in=8 out=1", "http_tax_ms_ci_low"),
                    hi = Charts.find(d.legs(), tc[0], tc[1], "in=8 out=1", "http_tax_ms_ci_high");
            assertEquals(
                    (hi - lo) / 2, whiskers.get(0).doubleValue(), 1e-9, leg + ": the whisker is the 95 % half-width");
            assertTrue(hi > lo, leg);
        }
    }

    /**
     * Strategies are ranked by the verdict on each neighbour's difference in lag, not by their point estimates: only a
     * difference whose interval (the two half-widths in quadrature) clears a tenth of a version orders two strategies.
     */
    @Test
    void strategiesAreRankedByAVerdictOnTheirLagIntervals() throws Exception {
        Path a = fixtureCopy();
        Files.writeString(a.resolve("freshness.csv"), """
                strategy,steps,samples,mean_update_ms,mean_propagation_ms,lost,retried,mean_lag,max_lag,\
                mean_lag_ci_low,mean_lag_ci_high
                inproc-swap,2,8,0.39,0.39,0,0,0.0,0,0.0,0.0
                http-push-all,2,8,48.7,102.6,0,0,0.9,1,0.85,0.95
                http-push-rolling,2,8,5.0,53.2,0,0,0.375,1,0.1,0.65
                http-reload,2,8,21.0,73.9,0,0,0.5,1,0.3,0.7
                http-restart,2,8,11.2,2184.3,0,3,0.125,1,-0.5,0.75
                """);
        String line = Files.readString(Report.write(a))
                .lines()
                .filter(l -> l.contains("Ranked by lag: "))
                .findFirst()
                .orElseThrow();
        // reload -> push-all: 0.4 apart, half-width hypot(0.2, 0.05) = 0.21, so the interval [0.19, 0.61] clears 0.1
        assertTrue(
                line.contains(
                        "Ranked by lag: inproc-swap ≈ http-restart ≈ http-push-rolling ≈ http-reload < http-push-all"),
                line);
        assertTrue(line.contains("http-push-all 0.90 [0.85, 0.95]"), line);
        assertFalse(line.contains("more --freshness-steps"), "one pair was told apart: " + line);
        // against in-process, each on its own: restart's wide interval leaves it undecided without blurring the rest
        assertTrue(
                line.contains("Staler than inproc-swap by more than 0.1 versions: confirmed for http-push-all, "
                        + "http-reload; undecided at this run's noise for http-push-rolling, http-restart."),
                line);
    }

    /** A first round compare left out as still warming is out of every request-level table, and the report says so. */
    @Test
    void aFirstRoundLeftOutAsWarmingIsNotCountedAndTheRoundsTableSaysSo() throws Exception {
        Path a = fixtureCopy("results-engine-timings");
        int before = taxes(a, "http1", "keep-alive", "in=8 out=1").size();
        var run = (ObjectNode) Json.parse(Files.readString(a.resolve("run.json")));
        ((ObjectNode) run.path("config")).set("first_rounds_left_out", Json.parse("""
                                [{"topology": "http1", "connection": "keep-alive", "workload": "in=8 out=1", "round": 1,
                                  "mean_e2el_ms": 30.0, "later_max_ms": 9.0, "later_range_ms": 0.0}]
                                """));
        Files.writeString(a.resolve("run.json"), run.toString());
        RunData d = RunData.load(a);
        long round1 = 0, rest = 0;
        for (var r : d.requests()) {
            if (!r.getString("topology").equals("http1")
                    || !r.getString("connection").equals("keep-alive")) continue;
            if ((int) r.getNumber("completion_tokens") != 1) continue;
            if (r.getNumber("round") == 1) round1++;
            else rest++;
        }
        assertEquals(0, round1, "round 1 of the warming cell is not counted");
        assertTrue(rest > 0 && rest < before, rest + " of " + before);
        String md = Files.readString(Report.write(a));
        assertTrue(md.contains("Left out as still warming") && md.contains("http1 keep-alive in=8 out=1 round 1"), md);
    }

    @Test
    void tablesAreReadWithStableTypes() throws Exception {
        RunData d = RunData.load(fixtureCopy());
        assertEquals(28, d.legs().rowCount());
        assertEquals(5, d.freshness().orElseThrow().rowCount());
        assertTrue(d.requests().rowCount() > 400);
        assertTrue(d.requests().doubleColumn("e2el_ms").min() > 0);
        assertEquals(
                0,
                d.staleness()
                        .orElseThrow()
                        .where(d.staleness()
                                .orElseThrow()
                                .stringColumn("strategy")
                                .isEqualTo("inproc-swap"))
                        .doubleColumn("lag")
                        .sum());
    }

    @Test
    void aFolderWithoutResultsIsRefusedClearly() {
        var e = assertThrows(IllegalArgumentException.class, () -> RunData.load(TestModels.tempDir("empty")));
        assertTrue(e.getMessage().contains("summary.csv"));
    }

    /**
     * A folder written before the result words became types (a `compare --fleet` run of 2026-12-02): the freshness
     * strategies stand in summary.csv as rows under their former fleet names, with a staleness column. It still opens:
     * the legs leave those rows out, the baselines follow the one rule, and every chart the notebooks draw is drawn.
     */
    @Test
    void aFolderFromBeforeTheTypedWordsStillOpensInTheReportAndTheNotebooksCharts() throws Exception {
        Path dir = fixtureCopy("results-before-typed-words");
        RunData d = RunData.load(dir);
        assertEquals(
                java.util.Set.of("inprocN", "httpN", "lb"),
                new java.util.HashSet<>(d.legs().stringColumn("topology").asList()),
                "freshness rows are not legs");
        assertEquals("inprocN", d.baseline("httpN"));
        assertEquals("inprocN", d.baseline("lb"));
        assertEquals(
                mean(taxes(dir, "lb", "keep-alive", "in=8 out=8")),
                Charts.find(d.legs(), "lb", "keep-alive", "in=8 out=8", "http_tax_ms"),
                1e-9,
                "a folder from before summary.csv had the tax gets it from its requests");
        assertEquals(
                java.util.List.of("inproc-swap", "push-all", "tree"),
                d.freshness().orElseThrow().stringColumn("strategy").asList(),
                "the former names are read as written");
        Path md = Report.write(dir);
        String report = Files.readString(md);
        assertTrue(report.contains("## Latency and throughput by topology"), report);
        assertTrue(report.contains("| lb | keep-alive |"), report);
        for (String png : Report.PLOTS)
            assertTrue(Files.size(dir.resolve("plots").resolve(png)) > 5_000, png);
        // what the notebooks call on a folder
        assertTrue(Charts.latencyCdf(d).getSeriesMap().size() >= 3);
        assertTrue(FreshnessCharts.stalenessHistogram(d).getSeriesMap().containsKey("tree"));
        Charts.throughputVsConcurrency(d);
    }
}
