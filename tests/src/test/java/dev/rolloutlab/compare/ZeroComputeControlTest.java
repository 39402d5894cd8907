package dev.rolloutlab.compare;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.report.RunData;
import dev.rolloutlab.results.Percentiles;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Row;

/**
 * The zero-compute control runs the grid again on clock engines whose steps take no time, in serve and in-process
 * alike, in the run's own serve and lb JVMs (serve's twins, the balancer switched to them), and the report shows its
 * tax beside the real engine's.
 */
class ZeroComputeControlTest {
    @Test
    void theControlRunsTheSameGridOnEnginesThatComputeNothingAndTheReportShowsItsTax() throws Exception {
        Path out = TestModels.tempDir("control").resolve("run");
        Processes.Run r = Processes.run(
                300,
                "compare",
                "--quick",
                "--control",
                "--warmup-max-sec",
                "30",
                "--topologies",
                "inproc,http1,lb",
                "--strategies",
                "none",
                "--prompt-lens",
                "8",
                "--output-lens",
                "1,8",
                "--out",
                out.toString());
        assertEquals(0, r.exit(), r.err());
        Path control = out.resolve("control");
        var config = Json.parse(Files.readString(control.resolve("run.json"))).path("config");
        // the control warms every process until steady; the real legs then warm the engines' processes again, not
        // the balancer, whose code the control's requests through it already ran
        var controlWarmed = config.path("steady_warmup_req_per_s");
        var realWarmed = Json.parse(Files.readString(out.resolve("run.json")))
                .path("config")
                .path("steady_warmup_req_per_s");
        assertEquals(List.of("in-process", "serve", "lb"), names(controlWarmed), controlWarmed.toString());
        boolean balancerSteady = r.err().contains("compare: control: lb (lb keep-alive) warm-up steady after ");
        assertEquals(
                balancerSteady ? List.of("in-process", "serve") : List.of("in-process", "serve", "lb"),
                names(realWarmed),
                r.err());
        assertEquals("zero-compute", config.path("control").path("sim_profile").asText(), config.toString());
        assertEquals(
                Json.parse(Files.readString(out.resolve("run.json")))
                        .path("config")
                        .path("prompt_lens")
                        .toString(),
                config.path("prompt_lens").toString(),
                "the same grid");
        // every leg's engine computed nothing: its prefill and decode are the scheduler's own bookkeeping
        RunData z = RunData.load(control), real = RunData.load(out);
        double zeroEngine = engineMs(z, "http1"), realEngine = engineMs(real, "http1");
        assertTrue(
                zeroEngine < 0.25 * realEngine,
                "the clock engine's time " + zeroEngine + " ms vs the real engine's " + realEngine + " ms");
        assertTrue(engineMs(z, "inproc") < 0.25 * engineMs(real, "inproc"), "in-process too");
        assertTrue(
                config.path("compute").path("http1").asText().contains("zero-compute twins of the serve JVM's ports"),
                config.path("compute").toString());
        // the same processes measured both: the serve and lb JVMs of the real legs, the measuring JVM
        var realProcesses = Json.parse(Files.readString(out.resolve("run.json")))
                .path("config")
                .path("processes");
        assertEquals(3, realProcesses.size(), realProcesses.toString());
        assertEquals(realProcesses, config.path("processes"), "the control ran in the run's own processes");
        // and the balancer switched: its control requests went to the twins, none of the real backends
        Set<String> realLb = backends(real, "lb"), controlLb = backends(z, "lb");
        assertFalse(realLb.isEmpty() || controlLb.isEmpty(), realLb + " / " + controlLb);
        assertTrue(Collections.disjoint(realLb, controlLb), "real " + realLb + ", control " + controlLb);
        assertEquals(0.0, engineMs(z, "lb"), 0.25 * engineMs(real, "lb"), "behind lb the twins computed nothing");
        // each control cell is measured in slices, one slot after each real cell (two cells here): the control has
        // twice the real rounds, and each of its rounds holds every cell
        int realRounds = Json.parse(Files.readString(out.resolve("run.json")))
                .path("config")
                .path("rounds_run")
                .asInt();
        assertTrue(realRounds > 0);
        assertEquals(2 * realRounds, config.path("rounds_run").asInt(), config.toString());
        // read from requests.jsonl, every round as measured: the report leaves out a cell's first rounds when they
        // were still warming (run.json's first_rounds_left_out), which is not what this checks
        Map<Integer, Set<String>> cellsByRound = new TreeMap<>();
        for (String line : Files.readAllLines(control.resolve("requests.jsonl"))) {
            var rec = Json.parse(line);
            cellsByRound
                    .computeIfAbsent(rec.path("round").asInt(), k -> new TreeSet<>())
                    .add(rec.path("topology").asText() + " out="
                            + rec.path("completion_tokens").asInt());
        }
        assertEquals(2 * realRounds, cellsByRound.size(), cellsByRound.toString());
        for (Set<String> cells : cellsByRound.values())
            assertEquals(
                    Set.of("inproc out=1", "inproc out=8", "http1 out=1", "http1 out=8", "lb out=1", "lb out=8"),
                    cells,
                    cellsByRound.toString());
        String md = Files.readString(out.resolve("REPORT.md"));
        assertTrue(md.contains("## Zero-compute control"), md);
        assertTrue(md.contains("| http1 | keep-alive | in=8 out=1 | +"), md);
        // beside the control's tax, the CPU its processes spent per request: client and serve on http1, from cpu.csv
        double perRequest = Double.NaN;
        for (Row row : z.cpu().orElseThrow())
            if (row.getString("topology").equals("http1")
                    && row.getString("connection").equals("keep-alive")
                    && row.getString("workload").equals("in=8 out=1"))
                perRequest = row.getNumber("client_cpu_ms_per_request") + row.getNumber("server_cpu_ms_per_request");
        assertTrue(perRequest > 0, "the control's HTTP requests cost CPU: " + perRequest);
        Matcher cell = Pattern.compile("\\| http1 \\| keep-alive \\| in=8 out=1 \\| \\+[^|]+\\| ([0-9.]+) \\|")
                .matcher(md);
        assertTrue(cell.find(), md);
        assertEquals(perRequest, Double.parseDouble(cell.group(1)), 0.006, "the report's CPU column: " + cell.group());
        assertTrue(md.contains("On the zero-compute control (the same grid on clock engines"), md);

        Path quick = TestModels.tempDir("control").resolve("quick");
        Processes.Run q = Processes.run(
                300,
                "compare",
                "--quick",
                "--topologies",
                "inproc",
                "--strategies",
                "none",
                "--prompt-lens",
                "8",
                "--output-lens",
                "1",
                "--out",
                quick.toString());
        assertEquals(0, q.exit(), q.err());
        assertFalse(Files.exists(quick.resolve("control")), "--quick runs no control unless asked");
    }

    /** The backends that answered a leg's requests. */
    private static Set<String> backends(RunData d, String topology) {
        Set<String> out = new TreeSet<>();
        for (Row r : d.requests()) if (r.getString("topology").equals(topology)) out.add(r.getString("backend"));
        return out;
    }

    /** The median prefill + decode the engine reported on a leg, over its completed requests. */
    private static double engineMs(RunData d, String topology) {
        List<Double> ms = new ArrayList<>();
        for (Row r : d.requests()) {
            if (!r.getBoolean("ok") || !r.getString("topology").equals(topology)) continue;
            ms.add(r.getNumber("server_timing_prefill_ms") + r.getNumber("server_timing_decode_ms"));
        }
        assertFalse(ms.isEmpty(), "no requests on " + topology);
        // the median: a clock engine whose steps take no time still waits out a stall of the loaded machine now and
        // then, and a few of them lifted a mean to 0.1 ms where the tiny real engine's was under 0.4
        return Percentiles.median(ms);
    }

    private static List<String> names(JsonNode node) {
        List<String> out = new ArrayList<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
