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

    @Test
    void equalEnginesThatComputedAtDifferentSpeedsAreFlaggedCellByCell() throws Exception {
        write(200, 205, 0);
        StringBuilder req = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            // in=8: in-process 14.2 ms against serve's 5.2 (2.7x, flagged); in=128: 40 against 36 ms (1.1x, not)
            req.append(timed("inproc", 8, 13.9 + i % 3 * 0.1));
            req.append(timed("http1", 8, 4.9 + i % 3 * 0.1));
            req.append(timed("inproc", 128, 40));
            req.append(timed("http1", 128, 36));
        }
        Files.writeString(dir.resolve("requests.jsonl"), req);
        List<String> flags = SelfChecks.flags(RunData.load(dir));
        assertEquals(1, flags.size(), flags.toString());
        assertTrue(
                flags.get(0)
                        .startsWith("engines unalike: on in=8 out=1 the in-process engine computed for 14.20 ms "
                                + "(median prefill + decode) where serve's took 5.20 ms (2.7×)"),
                flags.get(0));
    }

    @Test
    void targetsThatServedPromptsFromAPrefixCacheAreFlaggedWithTheShareAndTheFix() throws Exception {
        write(200, 205, 0);
        StringBuilder req = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            // httpN's targets held 64 of every other 128-token prompt (a quarter); in-process reports 0, lb nothing
            req.append(cached("httpN", i % 2 == 0 ? 64 : 0));
            req.append(cached("inproc", 0));
            req.append(timed("lb", 128, 36));
        }
        Files.writeString(dir.resolve("requests.jsonl"), req);
        List<String> flags = SelfChecks.flags(RunData.load(dir));
        assertEquals(
                List.of("prefix cache: httpN keep-alive's targets served 1280 of 5120 prompt tokens (25.0 %) from a "
                        + "prefix cache; the grid repeats its prompts, so those requests measured lookups, not "
                        + "prefill: start the targets without one (serve --prefix-cache-mb 0, sglang "
                        + "--disable-radix-cache)"),
                flags);
    }

    private static String cached(String topology, int cachedTokens) {
        return timed(topology, 128, 30)
                .replace("\"decode_ms\":0.2", "\"decode_ms\":0.2,\"cached_tokens\":" + cachedTokens);
    }

    private static String timed(String topology, int promptTokens, double prefillMs) {
        return "{\"topology\":\"" + topology + "\",\"connection\":\""
                + (topology.equals("inproc") ? "none" : "keep-alive")
                + "\",\"status\":200,\"scheduled_ns\":0,\"sent_ns\":0,\"end_ns\":50000000,\"prompt_tokens\":"
                + promptTokens + ",\"completion_tokens\":1,\"server_timing\":{\"queue_ms\":0,\"prefill_ms\":"
                + prefillMs
                + ",\"decode_ms\":0.2}}\n";
    }
}
