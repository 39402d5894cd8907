package dev.rolloutlab.compare;

import dev.rolloutlab.report.Report;
import dev.rolloutlab.report.RunData;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class CompareTest {

    @Test
    void quickCompareEndToEnd() throws Exception {
        Path out = TestModels.tempDir("compare").resolve("run");
        Processes.Run r = Processes.run(300, "compare", "--quick", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("results: " + out), r.out());
        // progress: one line per measured cell, counting up to exactly the cells planned
        int planned = Progress.planned(CompareConfig.defaults(true));
        List<String> progress = r.err().lines().filter(l -> l.trim().matches("\\[\\d+/\\d+ cells\\] \\d+ s elapsed, about \\d+ s left.*")).toList();
        assertEquals(planned, progress.size(), r.err());
        assertTrue(progress.get(planned - 1).trim().startsWith("[" + planned + "/" + planned + " cells]"), progress.toString());

        RunData d = RunData.load(out);
        Table s = d.summary();
        Set<String> topologies = new HashSet<>(s.stringColumn("topology").asList());
        assertTrue(topologies.containsAll(Set.of("inproc", "http1", "httpN", "lb")), topologies.toString());
        assertTrue(topologies.containsAll(CompareConfig.ALL_STRATEGIES), topologies.toString());
        Set<String> connections = new HashSet<>(d.legs().stringColumn("connection").asList());
        assertEquals(Set.of("none", "keep-alive", "close"), connections);
        for (Row row : d.legs()) {
            assertEquals(0, (int) row.getNumber("failed"), "no failed requests in " + row);
            double m = row.getNumber("mean_e2el_ms");
            assertTrue(row.getNumber("mean_e2el_ms_ci_low") <= m && m <= row.getNumber("mean_e2el_ms_ci_high"), "the interval holds the mean: " + row);
            assertTrue(row.isMissing("p99_e2el_ms"), "16 requests cannot support a p99: " + row);
        }

        // the shortest workload: in-process has the lowest per-request overhead
        String shortest = d.legs().stringColumn("workload").get(0);
        for (Row row : d.legs()) {
            if (!row.getString("workload").equals(shortest)) continue;
            double ov = row.getNumber("overhead_ms_per_request");
            if (row.getString("topology").equals("inproc")) assertEquals(0.0, ov, 1e-9);
            else assertTrue(ov > 0, row.getString("topology") + "/" + row.getString("connection") + " overhead " + ov);
        }

        Table f = d.freshness().orElseThrow();
        for (Row row : f) {
            assertTrue(row.getNumber("samples") > 0);
            double lag = row.getNumber("mean_lag");
            if (row.getString("strategy").equals("inproc-swap")) assertEquals(0.0, lag, 0.0, "in-memory swap is on-policy");
            else assertFalse(Double.isNaN(lag), row.getString("strategy") + " lag must be measured");
        }
        assertEquals(CompareConfig.ALL_STRATEGIES.size(), f.rowCount());
        Table sweep = d.sweep().orElseThrow();
        assertEquals(Set.of("inproc", "http1", "httpN", "lb"), new HashSet<>(sweep.stringColumn("topology").asList()));
        assertEquals(4 * CompareConfig.defaults(true).sweepConcurrency().size(), sweep.rowCount());
        for (Row row : sweep) assertTrue(row.getNumber("output_throughput") > 0, row.toString());
        for (String png : Report.PLOTS) {
            Path p = out.resolve("plots").resolve(png);
            BufferedImage img = ImageIO.read(p.toFile());
            assertNotNull(img, png + " is not a valid image");
            assertTrue(img.getWidth() > 100 && img.getHeight() > 100);
        }
        // keep-alive vs close: each bar's whisker is half its leg's 95 % interval of mean e2el from summary.csv
        var kc = dev.rolloutlab.report.Charts.keepAliveVsClose(d);
        for (String conn : List.of("keep-alive", "close")) {
            var series = kc.getSeriesMap().get(conn);
            List<Object> cats = new java.util.ArrayList<>(series.getXData());
            List<Number> whiskers = new java.util.ArrayList<>(series.getExtraValues());
            assertEquals(12, cats.size(), cats.toString());
            for (int i = 0; i < cats.size(); i++) {
                String[] tw = cats.get(i).toString().split(" ", 2);
                Row leg = d.legs().where(d.legs().stringColumn("topology").isEqualTo(tw[0]).and(d.legs().stringColumn("connection").isEqualTo(conn))
                        .and(d.legs().stringColumn("workload").isEqualTo(tw[1]))).row(0);
                double half = (leg.getNumber("mean_e2el_ms_ci_high") - leg.getNumber("mean_e2el_ms_ci_low")) / 2;
                assertTrue(half > 0);
                assertEquals(half, whiskers.get(i).doubleValue(), 1e-9, conn + " " + cats.get(i));
            }
        }
        String md = Files.readString(out.resolve("REPORT.md"));
        // CPU per request per process on the path: the serve JVM works on every HTTP leg, in-process there is none
        tech.tablesaw.api.Table cpu = d.cpu().orElseThrow(() -> new AssertionError("cpu.csv missing"));
        for (Row row : cpu) {
            boolean inproc = row.getString("topology").equals("inproc");
            assertEquals(inproc, row.isMissing("server_cpu_ms_per_request"), row.toString());
            if (!inproc) assertTrue(row.getNumber("server_cpu_ms_per_request") > 0, "the engine's work shows in serve's CPU: " + row);
            assertEquals(row.getString("topology").equals("lb"), !row.isMissing("lb_cpu_ms_per_request"), row.toString());
        }
        assertTrue(md.contains("## CPU per request (ms)"), md);
        // where the time goes: every topology has a row, its parts come from the servers' own timings
        assertTrue(md.contains("## Where the time goes"), md);
        String breakdown = md.substring(md.indexOf("## Where the time goes"));
        breakdown = breakdown.substring(0, breakdown.indexOf("\n## ", 5) < 0 ? breakdown.length() : breakdown.indexOf("\n## ", 5));
        String section = breakdown;
        for (String leg : List.of("| inproc | none |", "| http1 | keep-alive |", "| httpN | close |", "| lb | keep-alive |")) {
            String row = section.lines().filter(l -> l.startsWith(leg)).findFirst().orElseThrow(() -> new AssertionError(leg + " row missing:\n" + section));
            String[] cells = row.split("\\|");
            double e2el = Double.parseDouble(cells[4].trim()), prefill = Double.parseDouble(cells[6].trim()), decode = Double.parseDouble(cells[7].trim());
            assertTrue(prefill > 0 && decode >= 0 && prefill + decode <= e2el, row);
        }
        assertTrue(section.lines().anyMatch(l -> l.startsWith("| lb | keep-alive |") && !l.split("\\|")[8].isBlank()), "the balancer's share is shown");
        // the stacked chart: each bar's parts sum to that leg's mean e2el, computed here from the raw requests
        var stacked = dev.rolloutlab.report.Breakdown.chart(d);
        Table ok = d.requests().where(d.requests().booleanColumn("ok").isTrue().and(d.requests().doubleColumn("server_timing_decode_ms").isNotMissing()));
        List<String> bars = new java.util.ArrayList<>();
        stacked.getSeriesMap().values().iterator().next().getXData().forEach(x -> bars.add(x.toString()));
        assertEquals(7, bars.size(), bars.toString());
        for (int i = 0; i < bars.size(); i++) {
            String[] tc = bars.get(i).split("/");
            double mean = ok.where(ok.stringColumn("topology").isEqualTo(tc[0]).and(ok.stringColumn("connection").isEqualTo(tc[1])))
                    .doubleColumn("e2el_ms").mean(), sum = 0;
            for (var series : stacked.getSeriesMap().values()) {
                var ys = new java.util.ArrayList<Number>(series.getYData());
                sum += ys.get(i).doubleValue();
            }
            assertEquals(mean, sum, 1e-6, "the parts of " + bars.get(i) + " add up to its mean e2el");
        }
        assertTrue(md.contains("## Findings") && md.contains("cores"), md);
        // self-checks: every leg's send lag is shown, and the calibration was timed before and after the run
        String checks = md.substring(md.indexOf("## Self-checks"));
        for (String leg : List.of("| inproc none |", "| http1 keep-alive |", "| lb close |")) assertTrue(checks.contains(leg), leg + " missing:\n" + checks);
        var config = dev.rolloutlab.util.Json.parse(Files.readString(out.resolve("run.json"))).path("config");
        assertTrue(config.path("calibration_ms_before").asDouble() > 0 && config.path("calibration_ms_after").asDouble() > 0, config.toString());
        for (Row row : cpu) assertFalse(row.isMissing("load_average_before"), "load average read on Linux: " + row);
        assertFalse(Files.readString(out.resolve("run.json")).contains("\"incomplete\" : true"));
        var provenance = dev.rolloutlab.util.Json.parse(Files.readString(out.resolve("run.json"))).path("provenance");
        assertTrue(provenance.path("git_commit").asText().matches("[0-9a-f]{40}"), provenance.toString());
        assertTrue(provenance.path("git_dirty").isBoolean(), provenance.toString());
        assertTrue(provenance.path("command_line").asText().contains("compare --quick --out " + out), provenance.toString());
        assertTrue(provenance.path("jvm_flags").toString().contains("jdk.incubator.vector"), provenance.toString());
        // nothing left listening: every child process ended with the run
        assertTrue(ProcessHandle.current().children().noneMatch(ProcessHandle::isAlive));
    }

    @Test
    void badFlagsAreNamed() {
        Processes.Run r = Processes.run(60, "compare", "--topologies", "inproc,grpc");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("grpc"), r.err());
    }
}
