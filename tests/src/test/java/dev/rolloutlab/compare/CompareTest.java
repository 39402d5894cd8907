package dev.rolloutlab.compare;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.report.Breakdown;
import dev.rolloutlab.report.Charts;
import dev.rolloutlab.report.Report;
import dev.rolloutlab.report.RunData;
import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Json;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.apache.commons.statistics.distribution.TDistribution;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

class CompareTest {

    @Test
    void quickCompareEndToEnd() throws Exception {
        Path out = TestModels.tempDir("compare").resolve("run");
        // the launching JVM gets a heap flag serve does not: a run measured in it would show that flag
        Processes.Run r = Processes.run(
                List.of("-Xmx1g"), Map.of(), 300, "compare", "--quick", "--timeline", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("results: " + out), r.out());
        // progress: one line per measured cell, counting up to exactly the cells planned: every round, every leg
        // (inproc and inprocN once, each HTTP topology per connection) on every cell, plus the sweep on the legs that
        // sweep
        CompareConfig q = CompareConfig.defaults(true).build();
        int legs = 2 + 3 * q.connections().size(), sweeping = 2 + 3;
        int planned = q.rounds()
                * (legs * q.promptLens().size() * q.outputLens().size()
                        + sweeping * q.sweepConcurrency().size());
        List<String> progress = r.err()
                .lines()
                .filter(l -> l.trim().matches("round \\d+ .*\\[\\d+/\\d+ cells\\] \\d+ s elapsed, about \\d+ s left"))
                .toList();
        assertEquals(planned, progress.size(), r.err());
        assertTrue(progress.get(planned - 1).contains("[" + planned + "/" + planned + " cells]"), progress.toString());
        assertEquals(
                q.strategies().size(),
                r.err()
                        .lines()
                        .filter(l -> l.trim().startsWith("freshness strategy "))
                        .count(),
                r.err());

        RunData d = RunData.load(out);
        Table s = d.summary();
        Set<String> topologies = new HashSet<>(s.stringColumn("topology").asList());
        assertEquals(
                Set.of("inproc", "inprocN", "http1", "httpN", "lb"),
                topologies,
                "the summary holds legs only; strategies are in freshness.csv");
        Set<String> connections =
                new HashSet<>(d.legs().stringColumn("connection").asList());
        assertEquals(Set.of("none", "keep-alive", "close"), connections);
        for (Row row : d.legs()) {
            assertEquals(0, (int) row.getNumber("failed"), "no failed requests in " + row);
            double m = row.getNumber("mean_e2el_ms");
            assertTrue(
                    row.getNumber("mean_e2el_ms_ci_low") <= m && m <= row.getNumber("mean_e2el_ms_ci_high"),
                    "the interval holds the mean: " + row);
            assertTrue(row.isMissing("p99_e2el_ms"), "16 requests cannot support a p99: " + row);
        }

        // the shortest workload: each HTTP leg's overhead is over the in-process topology with as many engines (its
        // sign is
        // a measurement, checked with a known delay in CompareAttributionTest)
        String shortest = d.legs().stringColumn("workload").get(0);
        for (Row row : d.legs()) {
            if (!row.getString("workload").equals(shortest)) continue;
            String t = row.getString("topology");
            if (t.startsWith("inproc")) {
                assertTrue(row.isMissing("overhead_ms_per_request"), "the baselines have no overhead: " + row);
                continue;
            }
            String base = t.equals("http1") ? "inproc" : "inprocN";
            Row b = d.legs()
                    .where(d.legs()
                            .stringColumn("topology")
                            .isEqualTo(base)
                            .and(d.legs().stringColumn("workload").isEqualTo(shortest)))
                    .row(0);
            assertEquals(
                    row.getNumber("mean_e2el_ms") - b.getNumber("mean_e2el_ms"),
                    row.getNumber("overhead_ms_per_request"),
                    1e-3,
                    row.toString());
            // summary.csv's interval is the report's paired one (one computation, bench.Confidence.blockedDifference)
            String prefix = "| " + t + " | " + row.getString("connection") + " | " + shortest + " | " + base + " | ";
            String line = Files.readString(out.resolve("REPORT.md"))
                    .lines()
                    .filter(l -> l.startsWith(prefix))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(prefix));
            // the last interval on the line is the e2el difference's (the first is the tax's)
            String[] lohi = line.substring(line.lastIndexOf('[') + 1, line.lastIndexOf(']'))
                    .split(", ");
            assertEquals(Double.parseDouble(lohi[0]), row.getNumber("overhead_ms_per_request_ci_low"), 0.0051, line);
            assertEquals(Double.parseDouble(lohi[1]), row.getNumber("overhead_ms_per_request_ci_high"), 0.0051, line);
        }
        checkRounds(d, q);

        Table f = d.freshness().orElseThrow();
        for (Row row : f) {
            assertTrue(row.getNumber("samples") > 0);
            double lag = row.getNumber("mean_lag");
            if (row.getString("strategy").equals("inproc-swap"))
                assertEquals(0.0, lag, 0.0, "in-memory swap is on-policy");
            else assertFalse(Double.isNaN(lag), row.getString("strategy") + " lag must be measured");
        }
        assertEquals(
                Strategy.ownServers().stream().map(Strategy::wire).toList(),
                f.stringColumn("strategy").asList());
        boolean staleSomewhere = false;
        for (Row row : f) {
            if (row.getString("strategy").equals("inproc-swap")) {
                assertEquals(0.0, row.getNumber("token_weighted_lag"), 0.0, "every in-process token is on-policy");
                assertEquals(
                        0.0,
                        row.getNumber("mixed_requests"),
                        0.0,
                        "an in-memory swap between batches splits no request");
                assertTrue(
                        row.getNumber("mean_abs_logprob_gap") < 1e-4 && row.getNumber("kl_k3") < 1e-8,
                        "the trainer reproduces on-policy logprobs: " + row);
            } else if (row.getNumber("token_weighted_lag") > 0) {
                staleSomewhere = true;
                assertTrue(
                        row.getNumber("kl_k3") > 0 && row.getNumber("mean_abs_logprob_gap") > 1e-6,
                        "stale tokens cost the trainer something: " + row);
            }
        }
        assertTrue(staleSomewhere, "a pipelined trainer gets some stale tokens over HTTP");
        // each strategy's lag is what its loop settles at: the token-weighted lag from the second step on (the first
        // batch is sampled before any update can be in flight, so every strategy's first step reads 0), with a t
        // interval over those steps cut at 0, computed here from the samples in freshness.jsonl
        assertTrue(q.freshnessSteps() >= 3, "two settled steps give an interval");
        boolean freshFirst = true;
        for (Row row : f) {
            Map<Integer, double[]> steps = stepLags(out, row.getString("strategy"));
            freshFirst &= steps.containsKey(0) && steps.get(0)[0] == 0;
            double lagTokens = 0, tokens = 0;
            for (var e : steps.entrySet())
                if (e.getKey() >= 1) {
                    lagTokens += e.getValue()[0];
                    tokens += e.getValue()[1];
                }
            assertEquals(lagTokens / tokens, row.getNumber("token_weighted_lag"), 1e-4, row.toString()); // 4 decimals
            double[] settled = steps.entrySet().stream()
                    .filter(e -> e.getKey() >= 1)
                    .mapToDouble(e -> e.getValue()[0] / e.getValue()[1])
                    .toArray();
            if (settled.length < 2) continue; // a step with no token sampled (all lost) gives no interval
            double m = Arrays.stream(settled).average().orElseThrow(), ss = 0;
            for (double x : settled) ss += (x - m) * (x - m);
            double half = TDistribution.of(settled.length - 1).inverseCumulativeProbability(0.975)
                    * Math.sqrt(ss / (settled.length - 1) / settled.length);
            assertEquals(Math.max(0, m - half), row.getNumber("token_weighted_lag_ci_low"), 1e-3, row.toString());
            assertEquals(m + half, row.getNumber("token_weighted_lag_ci_high"), 1e-3, row.toString());
        }
        assertTrue(freshFirst, "no strategy's first batch can be stale: nothing is in flight before it");
        assertTrue(
                Files.readString(out.resolve("REPORT.md"))
                        .contains(
                                "version lag per strategy from its second step on, once an update can be in flight (95 % CI across steps)"));
        assertTrue(
                bytes(f, "http-delta") < bytes(f, "http-push-all") / 4,
                "a 4.5 % step sent as a sparse delta is a fraction of the full push");
        assertEquals(
                q.strategies().size() * q.freshnessSteps() * q.freshnessBatch(),
                d.logprobGaps().orElseThrow().rowCount(),
                "one scored sample per group");
        Table sweep = d.sweep().orElseThrow();
        assertEquals(
                Set.of("inproc", "inprocN", "http1", "httpN", "lb"),
                new HashSet<>(sweep.stringColumn("topology").asList()));
        assertEquals(5 * q.sweepConcurrency().size(), sweep.rowCount());
        for (Row row : sweep) {
            double y = row.getNumber("output_throughput");
            assertTrue(
                    y > 0
                            && row.getNumber("output_throughput_ci_low") < y
                            && y < row.getNumber("output_throughput_ci_high"),
                    row.toString());
        }
        for (String png : Report.PLOTS) {
            Path p = out.resolve("plots").resolve(png);
            BufferedImage img = ImageIO.read(p.toFile());
            assertNotNull(img, png + " is not a valid image");
            assertTrue(img.getWidth() > 100 && img.getHeight() > 100);
        }
        // keep-alive vs close: each bar's whisker is half its leg's 95 % interval of mean e2el from summary.csv
        var kc = Charts.keepAliveVsClose(d);
        for (String conn : List.of("keep-alive", "close")) {
            var series = kc.getSeriesMap().get(conn);
            List<Object> cats = new ArrayList<>(series.getXData());
            List<Number> whiskers = new ArrayList<>(series.getExtraValues());
            assertEquals(12, cats.size(), cats.toString());
            for (int i = 0; i < cats.size(); i++) {
                String[] tw = cats.get(i).toString().split(" ", 2);
                Row leg = d.legs()
                        .where(d.legs()
                                .stringColumn("topology")
                                .isEqualTo(tw[0])
                                .and(d.legs().stringColumn("connection").isEqualTo(conn))
                                .and(d.legs().stringColumn("workload").isEqualTo(tw[1])))
                        .row(0);
                double half = (leg.getNumber("mean_e2el_ms_ci_high") - leg.getNumber("mean_e2el_ms_ci_low")) / 2;
                assertTrue(half > 0);
                assertEquals(half, whiskers.get(i).doubleValue(), 1e-9, conn + " " + cats.get(i));
            }
        }
        String md = Files.readString(out.resolve("REPORT.md"));
        // CPU per request per process on the path: the serve JVM works on every HTTP leg, in-process there is none
        tech.tablesaw.api.Table cpu = d.cpu().orElseThrow(() -> new AssertionError("cpu.csv missing"));
        for (Row row : cpu) {
            boolean inproc = row.getString("topology").startsWith("inproc");
            assertEquals(inproc, row.isMissing("server_cpu_ms_per_request"), row.toString());
            if (!inproc)
                assertTrue(
                        row.getNumber("server_cpu_ms_per_request") > 0,
                        "the engine's work shows in serve's CPU: " + row);
            assertEquals(
                    row.getString("topology").equals("lb"), !row.isMissing("lb_cpu_ms_per_request"), row.toString());
        }
        assertTrue(md.contains("## CPU per request (ms)"), md);
        // the compilers of compare's JVM, serve and lb, counted per leg: fresh JVMs compile through their first rounds
        double compiled = 0;
        for (Row row : cpu) {
            assertTrue(row.getNumber("compiler_cpu_ms") >= 0, row.toString());
            compiled += row.getNumber("compiler_cpu_ms");
        }
        assertTrue(compiled > 0, "fresh JVMs compiled nothing in their first rounds?");
        assertTrue(md.contains("| compiler_cpu_ms |"), "the CPU table shows the compilers");
        // serve's and the balancer's own /metrics, sampled during every HTTP cell: rows for each HTTP leg and none for
        // the in-process ones, counters that never go back, and a line per leg in the report
        Table metrics = d.metrics().orElseThrow(() -> new AssertionError("metrics.csv missing"));
        Set<String> scrapedLegs = new HashSet<>();
        Map<String, Double> lastCounter = new java.util.HashMap<>();
        for (Row row : metrics) {
            String leg = row.getString("topology") + "/" + row.getString("connection");
            scrapedLegs.add(leg);
            String metric = row.getString("metric");
            if (metric.contains("_total")) {
                String key = row.getString("server") + " " + metric;
                Double before = lastCounter.put(key, row.getNumber("value"));
                assertTrue(before == null || before <= row.getNumber("value"), "a counter never decreases: " + key);
            }
        }
        assertEquals(
                Set.of(
                        "http1/keep-alive",
                        "http1/close",
                        "httpN/keep-alive",
                        "httpN/close",
                        "lb/keep-alive",
                        "lb/close"),
                scrapedLegs);
        assertTrue(
                metrics.where(metrics.stringColumn("topology").isEqualTo("lb")).stringColumn("metric").asList().stream()
                        .anyMatch(m -> m.startsWith("lb_requests_total")),
                "the balancer's own series, read with its admin token");
        assertTrue(
                lastCounter.entrySet().stream()
                                .filter(e ->
                                        e.getKey().endsWith(" vllm:request_success_total{finished_reason=\"length\"}"))
                                .mapToDouble(Map.Entry::getValue)
                                .sum()
                        >= d.requests()
                                .where(d.requests().stringColumn("topology").isNotIn("inproc", "inprocN"))
                                .rowCount(),
                "serve counted at least the HTTP requests the client recorded (and the warm-ups)");
        assertTrue(md.contains("## What the servers reported (/metrics)"), md);
        // --timeline: one timeline of the client, lb and serve JVMs (and the freshness servers'), linked from REPORT.md
        JsonNode timeline = Json.parse(Files.readString(out.resolve("trace.json")));
        Set<String> processes = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (JsonNode e : timeline.path("traceEvents")) {
            if (e.path("name").asText().equals("process_name"))
                processes.add(e.path("args").path("name").asText());
            names.add(e.path("name").asText());
        }
        assertEquals(Set.of("client", "lb", "serve"), processes);
        assertTrue(
                names.containsAll(Set.of("request", "prefill", "decode", "relay", "step", "rollout", "update")),
                names.toString());
        assertTrue(md.contains("## Timeline") && md.contains("(trace.json)"), md);
        assertTrue(md.contains("perf/weight_sync_time"), "the freshness steps under Tunix's names: " + md);
        assertTrue(md.contains("| lb/keep-alive | "), md);
        assertTrue(Files.size(out.resolve("plots/server_metrics.png")) > 10_000);
        // where the time goes: every topology has a row, its parts come from the servers' own timings
        assertTrue(md.contains("## Where the time goes"), md);
        String breakdown = md.substring(md.indexOf("## Where the time goes"));
        breakdown = breakdown.substring(
                0, breakdown.indexOf("\n## ", 5) < 0 ? breakdown.length() : breakdown.indexOf("\n## ", 5));
        String section = breakdown;
        for (String leg :
                List.of("| inproc | none |", "| http1 | keep-alive |", "| httpN | close |", "| lb | keep-alive |")) {
            String row = section.lines()
                    .filter(l -> l.startsWith(leg))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(leg + " row missing:\n" + section));
            String[] cells = row.split("\\|");
            double e2el = Double.parseDouble(cells[4].trim()),
                    prefill = Double.parseDouble(cells[6].trim()),
                    decode = Double.parseDouble(cells[7].trim());
            assertTrue(prefill > 0 && decode >= 0 && prefill + decode <= e2el, row);
        }
        assertTrue(
                section.lines().anyMatch(l -> l.startsWith("| lb | keep-alive |") && !l.split("\\|")[9].isBlank()),
                "the balancer's share is shown");
        assertTrue(
                section.lines().anyMatch(l -> l.startsWith("| http1 | keep-alive |") && !l.split("\\|")[8].isBlank()),
                "serve's own share is shown");
        // the stacked chart: each bar's parts sum to that leg's mean e2el, computed here from the raw requests
        var stacked = Breakdown.chart(d);
        Table ok = d.requests()
                .where(d.requests()
                        .booleanColumn("ok")
                        .isTrue()
                        .and(d.requests()
                                .doubleColumn("server_timing_decode_ms")
                                .isNotMissing()));
        List<String> bars = new ArrayList<>();
        stacked.getSeriesMap().values().iterator().next().getXData().forEach(x -> bars.add(x.toString()));
        assertEquals(8, bars.size(), bars.toString());
        for (int i = 0; i < bars.size(); i++) {
            String[] tc = bars.get(i).split("/");
            double
                    mean =
                            ok.where(ok.stringColumn("topology")
                                            .isEqualTo(tc[0])
                                            .and(ok.stringColumn("connection").isEqualTo(tc[1])))
                                    .doubleColumn("e2el_ms")
                                    .mean(),
                    sum = 0;
            for (var series : stacked.getSeriesMap().values()) {
                var ys = new ArrayList<Number>(series.getYData());
                sum += ys.get(i).doubleValue();
            }
            assertEquals(mean, sum, 1e-6, "the parts of " + bars.get(i) + " add up to its mean e2el");
        }
        assertTrue(md.contains("## Findings") && md.contains("cores"), md);
        // self-checks: every leg's send lag is shown, and the calibration was timed before and after the run
        String checks = md.substring(md.indexOf("## Self-checks"));
        for (String leg : List.of("| inproc none |", "| http1 keep-alive |", "| lb close |"))
            assertTrue(checks.contains(leg), leg + " missing:\n" + checks);
        var config = Json.parse(Files.readString(out.resolve("run.json"))).path("config");
        assertTrue(
                config.path("calibration_ms_before").asDouble() > 0
                        && config.path("calibration_ms_after").asDouble() > 0,
                config.toString());
        // where the time went: every phase the quick run has (no control), in order, adding up to no more than the
        // run took by its own clock, which the last line gives with the report's time after them
        var phases = config.path("phase_seconds");
        assertEquals(
                List.of("starting", "warm-up", "cells", "freshness", "results"),
                List.copyOf(iterable(phases.fieldNames())),
                phases.toString());
        double phaseSum = 0;
        for (var p : phases) phaseSum += p.asDouble();
        var took = java.util.regex.Pattern.compile(
                        "compare took (\\d+) s \\(starting \\d+ s, warm-up \\d+ s, cells (\\d+) s, freshness \\d+ s, "
                                + "results \\d+ s, report \\d+ s\\)")
                .matcher(r.out());
        assertTrue(took.find(), r.out());
        assertTrue(phases.path("cells").asDouble() > 1, phases.toString());
        assertTrue(phaseSum <= Double.parseDouble(took.group(1)) + 1, phaseSum + " s of phases: " + took.group());
        for (Row row : cpu) assertFalse(row.isMissing("load_average_before"), "load average read on Linux: " + row);
        assertFalse(Files.readString(out.resolve("run.json")).contains("\"incomplete\" : true"));
        var provenance = Json.parse(Files.readString(out.resolve("run.json"))).path("provenance");
        assertTrue(provenance.path("git_commit").asText().matches("[0-9a-f]{40}"), provenance.toString());
        assertTrue(provenance.path("git_dirty").isBoolean(), provenance.toString());
        assertTrue(
                provenance.path("command_line").asText().contains("compare --quick --timeline --out " + out),
                provenance.toString());
        assertTrue(provenance.path("jvm_flags").toString().contains("jdk.incubator.vector"), provenance.toString());
        // the in-process engines and the load generator ran in a child JVM started like serve, not in the launcher
        Map<String, Set<String>> flags = new HashMap<>();
        config.path("processes").forEach(p -> {
            Set<String> fs = new TreeSet<>();
            p.path("jvm_flags").forEach(x -> fs.add(x.asText()));
            flags.put(
                    p.path("role").asText().startsWith("in-process")
                            ? "in-process"
                            : p.path("role").asText(),
                    fs);
        });
        assertEquals(
                Set.of("in-process", "serve", "lb"),
                flags.keySet(),
                config.path("processes").toString());
        assertEquals(flags.get("serve"), flags.get("in-process"), "the measuring JVM's flags are serve's");
        assertEquals(flags.get("serve"), flags.get("lb"));
        assertFalse(flags.get("in-process").contains("-Xmx1g"), "the launcher's own flag: " + flags);
        assertFalse(md.contains("processes not started alike"), md);
        // nothing left running: every process the run started ended with it
        assertTrue(ProcessHandle.current().descendants().noneMatch(ProcessHandle::isAlive));
    }

    /**
     * Every leg and cell once per round plus one pooled row; throughput pooled across rounds; the order rotates each
     * round.
     */
    private static void checkRounds(RunData d, CompareConfig q) {
        assertEquals(2, q.rounds(), "the t quantile below is for two rounds");
        double t975df1 = 12.706204736174698; // scipy.stats.t.ppf(0.975, 1)
        Table per = d.legRounds(), pooled = d.legs();
        assertEquals(q.rounds() * pooled.rowCount(), per.rowCount());
        for (Row row : pooled) {
            Table mine = per.where(per.stringColumn("topology")
                    .isEqualTo(row.getString("topology"))
                    .and(per.stringColumn("connection").isEqualTo(row.getString("connection")))
                    .and(per.stringColumn("workload").isEqualTo(row.getString("workload"))));
            assertEquals(
                    Set.of(1.0, 2.0), new HashSet<>(mine.numberColumn("round").asList()), row.toString());
            assertEquals(
                    mine.numberColumn("completed").sum(),
                    row.getNumber("completed"),
                    1e-9,
                    "the pooled row holds every round's requests");
            double a = mine.row(0).getNumber("output_throughput"),
                    b = mine.row(1).getNumber("output_throughput");
            double mean = (a + b) / 2, half = t975df1 * Math.abs(a - b) / Math.sqrt(2) / Math.sqrt(2);
            // summary.csv keeps 4 decimals: the interval recomputed from rounded values may differ by t * 5e-5; a
            // throughput cannot be negative, so the interval stops at 0
            assertEquals(mean, row.getNumber("output_throughput"), 1e-3, row.toString());
            assertEquals(Math.max(0, mean - half), row.getNumber("output_throughput_ci_low"), 1e-3, row.toString());
            assertEquals(mean + half, row.getNumber("output_throughput_ci_high"), 1e-3, row.toString());
        }
        Table req = d.requests();
        for (int r = 1; r <= q.rounds(); r++) {
            int round = r;
            assertEquals(
                    pooled.numberColumn("completed").sum() / q.rounds(),
                    req.where(req.doubleColumn("round").isEqualTo(round)).rowCount(),
                    1e-9,
                    "round " + r + " recorded every leg's requests");
        }
        // cpu.csv rows follow the order legs were measured in: round 2's first cell starts one leg later than round 1's
        Table cpu = d.cpuRounds().orElseThrow();
        String first = pooled.stringColumn("workload").get(0);
        List<List<String>> orders = new ArrayList<>();
        for (int r = 1; r <= 2; r++) {
            Table t = cpu.where(cpu.numberColumn("round")
                    .isEqualTo(r)
                    .and(cpu.stringColumn("workload").isEqualTo(first)));
            List<String> order = new ArrayList<>();
            for (Row row : t) order.add(row.getString("topology") + "/" + row.getString("connection"));
            orders.add(order);
        }
        List<String> rotated = new ArrayList<>(orders.get(0));
        Collections.rotate(rotated, -1);
        assertEquals(8, rotated.size(), orders.toString());
        assertEquals(rotated, orders.get(1), "round 2 runs the legs in round 1's order rotated by one");
        // like against like: the compute behind each topology is stated, and the overhead table pairs each with its
        // baseline
        String md;
        try {
            md = Files.readString(d.dir().resolve("REPORT.md"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String t : List.of("inproc", "inprocN", "http1", "httpN", "lb"))
            assertTrue(md.contains("\n| " + t + " | "), t + " compute row missing");
        assertTrue(
                md.contains("## Compute behind each topology")
                        && md.contains("| httpN | keep-alive | " + first + " | inprocN | "),
                md);
        assertTrue(md.contains("## Rounds") && md.contains("| round 1 | round 2 | spread |"), md);
    }

    /**
     * The first leg on each process warms in windows until its throughput stops rising; a later leg on the same process
     * (inprocN after inproc, httpN after http1) does not start another, and the windows are in run.json.
     */
    @Test
    void theFirstLegOnEachProcessWarmsUntilSteady() throws Exception {
        Path out = TestModels.tempDir("compare-steady").resolve("run");
        Processes.Run r = Processes.run(
                300,
                "compare",
                "--quick",
                "--warmup-max-sec",
                "40",
                "--topologies",
                "inproc,inprocN,http1,httpN",
                "--strategies",
                "none",
                "--rounds",
                "1",
                "--out",
                out.toString());
        assertEquals(0, r.exit(), r.err());
        var warmups = Json.parse(Files.readString(out.resolve("run.json")))
                .path("config")
                .path("steady_warmup_req_per_s");
        assertEquals(List.of("in-process", "serve"), names(warmups.fieldNames()), warmups.toString());
        for (String process : List.of("in-process", "serve")) {
            List<String> said = r.err()
                    .lines()
                    .filter(l -> l.startsWith("compare: " + process + " ("))
                    .toList();
            assertEquals(1, said.size(), r.err());
            int windows = warmups.path(process).size();
            // the trend test needs eight windows; the time cap may end it sooner, and says so
            if (said.getFirst().contains("warm-up steady after ")) assertTrue(windows >= 8, said + " " + warmups);
            else
                assertTrue(
                        said.getFirst().contains("still getting faster (the time cap)")
                                || said.getFirst().contains("too few windows to judge (the time cap)"),
                        said.toString());
            assertTrue(said.getFirst().contains("after " + windows + " windows"), said + " " + warmups);
            for (var rate : warmups.path(process)) assertTrue(rate.asDouble() > 0, warmups.toString());
        }
    }

    private static List<String> names(Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void badFlagsAreNamed() {
        Processes.Run r = Processes.run(60, "compare", "--topologies", "inproc,grpc");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("grpc"), r.err());
        for (var bad : List.of(
                List.of("--rounds", "0", "--rounds"),
                List.of("--until-ci", "0", "--until-ci"),
                List.of("--prompt-lens", "0", "--prompt-lens"),
                List.of("--quick", "--full", "--full"),
                List.of("--warmup-max-sec", "-1", "--warmup-max-sec"),
                List.of("--rounds", "5", "--until-ci", "5", "--max-rounds", "3", "--max-rounds"))) {
            List<String> args = new ArrayList<>(List.of("compare"));
            args.addAll(bad.subList(0, bad.size() - 1));
            Processes.Run x = Processes.run(60, args.toArray(String[]::new));
            assertEquals(2, x.exit(), bad + ": " + x.err());
            assertTrue(x.err().contains(bad.get(bad.size() - 1)), bad + " names the flag: " + x.err());
        }
    }

    /** A strategy's token-weighted lag in each step, from the samples of freshness.jsonl. */
    /** Each step's lag times tokens and its tokens, summed over the strategy's samples in freshness.jsonl. */
    private static Map<Integer, double[]> stepLags(Path run, String strategy) throws IOException {
        Map<Integer, double[]> sums = new TreeMap<>();
        for (String line : Files.readAllLines(run.resolve("freshness.jsonl"))) {
            var n = Json.parse(line);
            if (!n.path("strategy").asText().equals(strategy)
                    || n.path("tokens").asInt() <= 0) continue;
            double[] a = sums.computeIfAbsent(n.path("step").asInt(), k -> new double[2]);
            a[0] += n.path("token_lag").asDouble() * n.path("tokens").asInt();
            a[1] += n.path("tokens").asInt();
        }
        return sums;
    }

    private static double bytes(Table f, String strategy) {
        return f.where(f.stringColumn("strategy").isEqualTo(strategy))
                .doubleColumn("bytes_per_update")
                .get(0);
    }

    private static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
