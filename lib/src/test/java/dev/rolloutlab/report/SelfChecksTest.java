package dev.rolloutlab.report;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The self-checks on a results folder whose numbers are known: one leg kept its schedule, one fell 5 ms behind. */
class SelfChecksTest {
    @TempDir
    Path dir;

    private void write(double calibrationBefore, double calibrationAfter, double stealMs) throws Exception {
        Files.writeString(
                dir.resolve("summary.csv"),
                "topology,connection,workload,completed,mean_e2el_ms\n"
                        + "http1,keep-alive,short,100,10\nlb,close,short,100,10\n");
        StringBuilder req = new StringBuilder();
        for (int i = 0; i < 100; i++) {
            long scheduled = i * 10_000_000L;
            req.append(line("http1", "keep-alive", scheduled, scheduled + 100_000)); // 0.1 ms
            req.append(line("lb", "close", scheduled, scheduled + (i < 5 ? 0 : 5_000_000))); // 5 ms for 95 %
        }
        Files.writeString(dir.resolve("requests.jsonl"), req);
        Files.writeString(
                dir.resolve("run.json"),
                "{\"config\":{\"calibration_ms_before\":" + calibrationBefore + ",\"calibration_ms_after\":"
                        + calibrationAfter + "}}");
        Files.writeString(
                dir.resolve("cpu.csv"),
                "topology,connection,workload,requests,steal_ms\nlb,close,short,100," + stealMs + "\n");
    }

    private static String line(String topology, String connection, long scheduled, long sent) {
        return "{\"topology\":\"" + topology + "\",\"connection\":\"" + connection
                + "\",\"status\":200,\"scheduled_ns\":" + scheduled + ",\"sent_ns\":" + sent + ",\"end_ns\":"
                + (sent + 10_000_000) + "}\n";
    }

    @Test
    void flagsTheClientBoundLegOnly() throws Exception {
        write(200, 205, 0);
        List<String> flags = SelfChecks.flags(RunData.load(dir));
        assertEquals(1, flags.size(), flags.toString());
        assertTrue(
                flags.get(0).startsWith("client-bound: lb close sent requests 5.00 ms behind schedule (p90)"),
                flags.get(0));
        String md = Report.markdown(RunData.load(dir));
        assertTrue(md.contains("| http1 keep-alive | 0.100 | p90 |"), md);
        assertTrue(md.contains("self-checks flagged 1 problem(s)"), md);
    }

    @Test
    void flagsAMachineWhoseSpeedChanged() throws Exception {
        write(200, 260, 450);
        List<String> flags = SelfChecks.flags(RunData.load(dir));
        assertTrue(
                flags.stream()
                        .anyMatch(
                                f -> f.startsWith(
                                        "machine noisy: a fixed computation took 200 ms before the run and 260 ms after (+30 %)")),
                flags.toString());
        assertTrue(
                flags.stream()
                        .anyMatch(
                                f -> f.startsWith("machine noisy: the hypervisor took 450 ms of CPU during lb close")),
                flags.toString());
    }

    @Test
    void flagsAServerStillWarmingWhenItsWarmUpEndedAndShowsEveryWarmUp() throws Exception {
        write(200, 205, 0);
        Files.writeString(
                dir.resolve("requests.jsonl"), line("inproc", "none", 0, 1000).repeat(30));
        Files.writeString(
                dir.resolve("run.json"),
                "{\"config\":{\"calibration_ms_before\":200,\"calibration_ms_after\":205,"
                        + "\"steady_warmup_req_per_s\":{\"in-process\":[190,196,195,197,194,196],\"serve\":[115,148,150,156,162,170]}}}");
        List<String> flags = SelfChecks.flags(RunData.load(dir));
        assertEquals(
                List.of(
                        "not warm: serve was still getting faster when its warm-up ended (115 → 148 → 150 → 156 → 162 → 170 req/s); the first "
                                + "rounds measured it still speeding up: raise --warmup-max-sec"),
                flags);
        String md = Report.markdown(RunData.load(dir));
        assertTrue(
                md.contains("Warm-up of in-process until its throughput stopped rising: 6 windows, 190 → 196 req/s."),
                md);
        assertTrue(
                md.contains(
                        "Warm-up of serve until its throughput stopped rising: 6 windows, 115 → 170 req/s (still rising at the time cap)."),
                md);
    }

    @Test
    void aSteadyRunIsNotFlagged() throws Exception {
        write(200, 190, 20);
        Files.writeString(
                dir.resolve("requests.jsonl"), line("inproc", "none", 0, 1000).repeat(30));
        assertEquals(List.of(), SelfChecks.flags(RunData.load(dir)));
        assertTrue(Report.markdown(RunData.load(dir)).contains("No problems found"));
    }

    @Test
    void processesStartedWithDifferentCollectorsAreFlaggedAndAlikeOnesAreNot() throws Exception {
        var unalike = Json.parse("""
                [{"role": "in-process engines and the load generator (the compare JVM)", "pid": 1,
                  "jvm_flags": ["--add-modules=jdk.incubator.vector", "-XX:+UseG1GC"]},
                 {"role": "serve", "pid": 2, "jvm_flags": ["--add-modules=jdk.incubator.vector", "-XX:+UseSerialGC"]},
                 {"role": "lb", "pid": 3, "jvm_flags": ["-XX:+UseZGC"]}]
                """);
        String flag = SelfChecks.unalike(unalike).orElseThrow();
        assertTrue(flag.contains("[-XX:+UseG1GC]") && flag.contains("[-XX:+UseSerialGC]"), flag);
        var alike = Json.parse("""
                [{"role": "in-process engines and the load generator (the compare JVM)", "pid": 1,
                  "jvm_flags": ["-XX:+UseSerialGC", "--add-modules=jdk.incubator.vector"]},
                 {"role": "serve", "pid": 2, "jvm_flags": ["--add-modules=jdk.incubator.vector", "-XX:+UseSerialGC"]}]
                """);
        assertTrue(SelfChecks.unalike(alike).isEmpty(), "the lb is not compared with the engines");
    }
}
