package dev.rolloutlab.compare;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.report.RunData;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Row;

/**
 * The zero-compute control runs the grid again on clock engines whose steps take no time, in serve and in-process
 * alike, and the report shows its tax beside the real engine's.
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
                "--topologies",
                "inproc,http1",
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
                config.path("compute").path("http1").asText().contains("serve --engine sim --sim-profile zero-compute"),
                config.path("compute").toString());
        String md = Files.readString(out.resolve("REPORT.md"));
        assertTrue(md.contains("## Zero-compute control"), md);
        assertTrue(md.contains("| http1 | keep-alive | in=8 out=1 | +"), md);
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

    /** The mean prefill + decode the engine reported on a leg, over its completed requests. */
    private static double engineMs(RunData d, String topology) {
        double sum = 0;
        int n = 0;
        for (Row r : d.requests()) {
            if (!r.getBoolean("ok") || !r.getString("topology").equals(topology)) continue;
            sum += r.getNumber("server_timing_prefill_ms") + r.getNumber("server_timing_decode_ms");
            n++;
        }
        assertTrue(n > 0, "no requests on " + topology);
        return sum / n;
    }
}
