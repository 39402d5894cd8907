package dev.rolloutlab.sim;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.report.Breakdown;
import dev.rolloutlab.report.RunData;
import dev.rolloutlab.report.SimReport;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.testing.WakeProbe;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import okhttp3.OkHttpClient;
import org.apache.commons.statistics.distribution.TDistribution;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Simulated hosts in network namespaces with shaped links, end to end: the shaping shows in what clients measure, and
 * nothing is left behind. These tests need root (CI runs as root); without it they are skipped with the reason.
 */
class SimFleetTest {
    private static final OkHttpClient HTTP = OpenAiClient.http(16, Duration.ofSeconds(60));
    private static final String TOKEN = "sim-admin";
    private static Path dir, profile;

    @BeforeAll
    static void needsRoot() throws Exception {
        String why = NetnsFleet.unsupportedReason();
        Assumptions.assumeTrue(why == null, "skipped: " + why);
        dir = TestModels.tempDir("sim-fleet");
        profile = dir.resolve("fast.json");
        new Profile("fast", new TimingModel(2, 0.01, 2, 0.1, 0, 32), 1, 1, "test", "", "", null).write(profile);
    }

    /**
     * One fleet, one set of processes and connections: blocks of requests alternate between a link's delay and the same
     * links at zero, so the difference of paired blocks is the delay alone; what separate fleets add (one launch's TTFT
     * differs from the next by ±0.6 ms here) cancels. The tolerance is the paired differences' own 99.9 % interval
     * half-width, and on the upper side also the link timer's lateness as the hosts measured it during the blocks
     * (median, one wait each way) and the later wake-ups of threads blocked longer, measured by a {@link WakeProbe}. A
     * 5 ms link, a same-rack 0.2 ms link, and a control that pairs zero with zero: it must read about 0, and must not
     * pass as 5, so the assertions can fail. (Whether 0.2 ms can be told from zero depends on the machine's noise at
     * the time: with 40 % of the CPU stolen the spread was ±1.4 ms; the link check says so rather than pass such a
     * link.)
     */
    @Test
    void fourHostsBehindA5msLinkAnswer5msLaterAndBehindA0_2msLink0_2msLater() {
        try (NetnsFleet f = NetnsFleet.up(4, LinkProfile.parse("rtt=5"), 1);
                SimHosts h = SimHosts.start(f, 4, 1, profile.toString(), TOKEN, TestModels.tempDir("sim-ttft"))) {
            List<OpenAiClient> cs = h.urls().stream()
                    .map(u -> new OpenAiClient(HTTP, u, null, true))
                    .toList();
            for (OpenAiClient c : cs) for (int i = 0; i < 50; i++) ttft(c); // connections and JIT warm
            double zero = Double.NaN, zeroSlack = Double.NaN;
            for (double rtt : new double[] {5, 0.2, 0}) {
                double[] d = pairedDifferences(h, cs, rtt, 0);
                double late = 2 * h.timerLateUs()[0] / 1e3;
                // at zero nothing waits: the lateness read then is the last link's, not this one's
                if (rtt == 0 || Double.isNaN(late)) late = 0;
                // a thread blocked rtt longer wakes later, a cost of any link, which the upper side allows for three
                // threads whose idle wait grows by the round trip: the client's reader, the host's selector and its
                // engine (at 5 ms the paired medians read +0.6 ms where one reader's probe read +0.12)
                double wake = rtt == 0 ? 0 : 3 * Math.max(0, WakeProbe.extraMs(rtt, 200));
                double added = mean(d), slack = halfWidth(d);
                // the probe reads one thread's wake-up at the time and has read 0 while the paired medians read +0.37
                // ms; a link's promise is its delay within a tenth (5 ± 0.5 ms), so the upper side allows at least that
                double above = Math.max(slack + late + wake, rtt / 10);
                System.err.printf(
                        "added by a %.1f ms link (%s): %.3f ms, allowed [-%.3f, +%.3f: the larger of a tenth and"
                                + " %.3f + %.3f timer lateness + %.3f wake-ups] %s%n",
                        rtt, f.delay(), added, slack, above, slack, late, wake, Arrays.toString(d));
                String what = rtt + " ms more per request, paired: " + Arrays.toString(d);
                assertTrue(added >= rtt - slack, "the link hid part of its delay: " + added + " ms; " + what);
                assertTrue(
                        added <= rtt + above,
                        "the link added more than its delay: " + added + " ms against " + rtt + " + max(" + rtt / 10
                                + ", " + slack + " + " + late + " + " + wake + "); " + what);
                if (rtt == 0) {
                    zero = added;
                    zeroSlack = slack;
                }
            }
            assertTrue(
                    Math.abs(zero - 5) > zeroSlack,
                    "the control could pass as a 5 ms link: the test could not fail (" + zero + " ± " + zeroSlack
                            + ")");
        }
        assertEquals(List.of(), NetnsFleet.leftovers());
    }

    /** Per block pair: median TTFT with the links at {@code rttA}, minus the same at {@code rttB}, ABBA order. */
    private static double[] pairedDifferences(SimHosts h, List<OpenAiClient> cs, double rttA, double rttB) {
        // 30 pairs of 16: on this VM under load (40 % of the CPU stolen) block medians swing by ±2 ms, and the
        // interval narrows with the square root of the pairs
        double[] d = new double[30];
        for (int pair = 0; pair < d.length; pair++) {
            double[] m = new double[2];
            for (int half = 0; half < 2; half++) {
                boolean a = (pair + half) % 2 == 0; // ABBA order: a drift in time cancels too
                h.setLink(a ? rttA : rttB);
                double[] t = new double[16];
                for (int i = 0; i < t.length; i++) t[i] = ttft(cs.get(i % cs.size()));
                Arrays.sort(t);
                m[a ? 0 : 1] = (t[7] + t[8]) / 2;
            }
            d[pair] = m[0] - m[1];
        }
        return d;
    }

    private static double ttft(OpenAiClient c) {
        OpenAiClient.Result r = c.complete(
                CompletionRequest.completion("sim", new int[] {5, 6, 7}, 1, 0.0).withStream(true, false));
        assertTrue(r.ok(), r.error());
        return (r.firstTokenNs() - r.sentNs()) / 1e6;
    }

    private static double mean(double[] x) {
        return Arrays.stream(x).average().orElseThrow();
    }

    /**
     * The 99.9 % t-interval's half-width of the mean of {@code x}: a 95 % interval misses the true value one time in
     * twenty, and this test asserts three of them (one run in seven would fail a correct link).
     */
    private static double halfWidth(double[] x) {
        double m = mean(x), ss = 0;
        for (double v : x) ss += (v - m) * (v - m);
        return TDistribution.of(x.length - 1).inverseSurvivalProbability(0.0005)
                * Math.sqrt(ss / (x.length - 1) / x.length);
    }

    @Test
    void aPushOverA100MbitLinkTakesBytesOverRate() {
        try (NetnsFleet f = NetnsFleet.up(1, LinkProfile.parse("rate=100"), 1);
                SimHosts h = SimHosts.start(f, 1, 1, profile.toString(), TOKEN, TestModels.tempDir("sim-push"))) {
            OpenAiClient c = new OpenAiClient(HTTP, h.hostUrls(1).get(0), null, true);
            byte[] small = new byte[64 << 10], payload = new byte[10_000_000];
            assertEquals(
                    200,
                    c.postBytes("/admin/sim_weights", small, "application/octet-stream", Map.of("X-Admin-Token", TOKEN))
                            .status());
            double expected = payload.length * 8 / 100e6 * 1000;
            // three pushes: the link never lets one go faster than bytes / rate (3 %: the shaper's burst and the
            // timer), and a machine busy with other work only adds time, so the least disturbed of them must come
            // within a documented 15 % of it; one push alone read 926 ms for 800 beside a CPU hog
            double[] ms = new double[3];
            for (int i = 0; i < ms.length; i++) {
                long t0 = System.nanoTime();
                var x = c.postBytes(
                        "/admin/sim_weights", payload, "application/octet-stream", Map.of("X-Admin-Token", TOKEN));
                ms[i] = (System.nanoTime() - t0) / 1e6;
                assertEquals(200, x.status(), x.body());
                assertEquals(i + 2, x.json().path("version").asLong(), "each push moves the host to the next version");
            }
            double least = java.util.Arrays.stream(ms).min().orElseThrow();
            System.err.printf(
                    "10 MB over 100 Mbit/s: %s ms, bytes / rate = %.1f ms%n", java.util.Arrays.toString(ms), expected);
            for (double m : ms) assertTrue(m >= 0.97 * expected, "no push beats the link: " + m + " ms");
            assertTrue(least <= 1.15 * expected, "the least disturbed push takes bytes / rate: " + least + " ms");
        }
        assertEquals(List.of(), NetnsFleet.leftovers());
    }

    /** Loss needs netem: where the kernel has it the fleet says so, where not the request is refused with why. */
    @Test
    void aLossyLinkRunsOnNetemOrIsRefusedSayingWhy() {
        LinkProfile lossy = LinkProfile.parse("rtt=1,loss=1");
        if (NetnsFleet.netemAvailable()) {
            try (NetnsFleet f = NetnsFleet.up(1, lossy, 1)) {
                assertEquals(NetnsFleet.Delay.NETEM, f.delay());
            }
        } else {
            var e = assertThrows(IllegalStateException.class, () -> NetnsFleet.up(1, lossy, 1));
            assertTrue(
                    e.getMessage().contains("loss needs tc netem")
                            && e.getMessage().contains("drop loss="),
                    e.getMessage());
            try (NetnsFleet f = NetnsFleet.up(1, LinkProfile.parse("rtt=1"), 1)) {
                assertEquals(NetnsFleet.Delay.ENDPOINTS, f.delay(), "without netem the servers add the delay");
            }
        }
        assertEquals(List.of(), NetnsFleet.leftovers());
    }

    @Test
    void teardownLeavesNoNamespaceLinkQdiscOrProcess() throws IOException {
        List<Long> pids = new ArrayList<>();
        Path logs = TestModels.tempDir("sim-teardown");
        try (NetnsFleet f = NetnsFleet.up(3, LinkProfile.parse("rtt=2,rate=1000"), 1);
                SimHosts h = SimHosts.start(f, 3, 2, profile.toString(), TOKEN, logs)) {
            assertEquals(6, h.urls().size());
            // the hosts read their admin token as they started: no file is left that could change their weights
            assertEquals(List.of("sim-host-1.log", "sim-host-2.log", "sim-host-3.log"), logFiles(logs));
            assertTrue(
                    NetnsFleet.leftovers().size() >= 4, "3 namespaces and the bridge exist: " + NetnsFleet.leftovers());
            h.pids().forEach(pids::add);
        }
        assertEquals(List.of(), NetnsFleet.leftovers());
        for (long pid : pids)
            assertFalse(
                    ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                    "host process " + pid + " is gone");
    }

    @Test
    void aSmallSweepWritesItsFolderWithPlotsAssumptionsAndTheLinkCheck() throws Exception {
        Path out = TestModels.tempDir("sim-sweep").resolve("run");
        Processes.Run r = Processes.run(
                300,
                "sim",
                "sweep",
                "--hosts",
                "1,2",
                "--ports",
                "2",
                "--profile",
                profile.toString(),
                "--link",
                // the folder is under test, not the link: a round trip the check confirms on a loaded 2-core VM,
                // where its measurement spread reached ±1.2 ms (a 2 ms link was refused there, rightly)
                "rtt=10,rate=2000",
                "--bytes-scale",
                "100",
                "--model-gb",
                "0.5",
                "--out",
                out.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        String report = Files.readString(out.resolve("REPORT.md"));
        for (String must : List.of(
                "## Assumptions",
                "## Link check",
                "bytes_scale",
                "http-push-all",
                "http-push-rolling",
                "http-push-tree",
                "http-storage-pull",
                "| httpN |",
                "| lb |")) {
            assertTrue(report.contains(must), "REPORT.md names " + must + ":\n" + report);
        }
        for (String png : SimReport.PLOTS)
            assertTrue(Files.size(out.resolve("plots").resolve(png)) > 10_000, png);
        var sweep = Files.readAllLines(out.resolve("sim_sweep.csv"));
        assertEquals(1 + 2 * 2, sweep.size(), "hosts 1 and 2, httpN and lb: " + sweep);
        var run = Json.parse(Files.readString(out.resolve("run.json")));
        var check = run.path("config").path("link_check");
        // within the tolerance the check derived from its own measured spread, and that tolerance tells a link from
        // none
        assertEquals(
                10.0,
                check.path("rtt_ms").asDouble(),
                check.path("tolerance_ms").asDouble(),
                run.toString());
        assertTrue(check.path("tolerance_ms").asDouble() < 10.0 / 2, run.toString());
        assertTrue(check.path("compensation_ms").asDouble() >= 0, run.toString());
        assertEquals(
                NetnsFleet.netemAvailable() ? "NETEM" : "ENDPOINTS",
                check.path("delay").asText(),
                run.toString());
        assertEquals(
                20.0,
                run.path("config").path("link_check").path("rate_mbit").asDouble(),
                2.0,
                "2 Gbit/s over a bytes scale of 100");
        var pushes = Files.readAllLines(out.resolve("sim_weights.csv"));
        assertEquals(1 + 2 * 4, pushes.size(), "the four fleet strategies at 1 and 2 hosts: " + pushes);
        for (String row : pushes.subList(1, pushes.size())) {
            String[] f = row.split(",");
            double wall = Double.parseDouble(f[4]), predicted = Double.parseDouble(f[5]);
            assertEquals(predicted, wall, predicted * 0.25, "measured against bytes over rates: " + row);
        }
        assertEquals(List.of(), NetnsFleet.leftovers());
        try (var files = Files.walk(out)) {
            assertEquals(
                    List.of(),
                    files.filter(p -> p.getFileName().toString().contains("token"))
                            .toList(),
                    "a results folder is shared: the simulated hosts' admin token is not in it");
        }
    }

    /** The host logs in {@code dir}, sorted (serve writes a ready file beside each). */
    private static List<String> logFiles(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> !n.endsWith(".ready.json"))
                    .sorted()
                    .toList();
        }
    }

    /**
     * GRPO groups on simulated hosts whose engines keep prefix caches: where a group's requests land decides what it
     * computes, exactly. A host's ports share its one engine (and its cache), so round robin over the 4 ports of 2
     * hosts computes the prompt on each host; cache-aware and sticky routing keep a group on one engine, which computes
     * it once and serves the other samples from its cache (all but the prompt's last partial block).
     */
    @Test
    void aGroupsSweepPredictsWhatKeepingAGroupTogetherSavesAtEachHostCount() throws Exception {
        Path out = TestModels.tempDir("sim-groups").resolve("run");
        int prompt = 448, group = 8, engines = 2;
        Processes.Run r = Processes.run(
                300,
                "sim",
                "sweep",
                "--hosts",
                "2",
                "--ports",
                "2",
                "--group-size",
                String.valueOf(group),
                "--prompt-tokens",
                String.valueOf(prompt),
                "--profile",
                profile.toString(),
                "--link",
                "rtt=10,rate=2000", // confirmed by the link check even on a loaded VM (see the sweep test)
                "--out",
                out.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        int tail = prompt - (prompt - 1) / 16 * 16;
        double once = (prompt + (group - 1) * tail) / (double) group,
                onEachHost = (engines * prompt + (group - engines) * tail) / (double) group;
        List<String> csv = Files.readAllLines(out.resolve("sim_prefix.csv"));
        List<String> head = List.of(csv.get(0).split(","));
        assertEquals(1 + 4, csv.size(), "client round robin and three balancer policies at 2 hosts: " + csv);
        for (String line : csv.subList(1, csv.size())) {
            String[] f = line.split(",");
            String routing = f[head.indexOf("routing")];
            assertEquals("0", f[head.indexOf("failed")], line);
            assertEquals(
                    routing.endsWith("round-robin") ? onEachHost : once,
                    Double.parseDouble(f[head.indexOf("computed_prefill_per_sample")]),
                    1e-9,
                    routing + ": " + csv);
        }
        String report = Files.readString(out.resolve("REPORT.md"));
        assertTrue(report.contains("## Groups per way of routing") && report.contains("## Link check"), report);
        for (String png : SimReport.GROUP_PLOTS)
            assertTrue(Files.size(out.resolve("plots").resolve(png)) > 10_000, png);
        assertEquals(List.of(), NetnsFleet.leftovers());
    }

    @Test
    void compareOnASimulatedFleetRunsEveryTopologyAndTheFreshnessExperimentAgainstTheSameTimingModel()
            throws Exception {
        Path out = TestModels.tempDir("sim-compare").resolve("run");
        // a 0.05 GB update over 2 Gbit/s scaled 100x: 200 ms per host copy, far longer than a batch of 16 tokens at 2-4
        // ms a step
        Processes.Run r = Processes.run(
                300,
                "compare",
                "--quick",
                "--fleet",
                "sim:2x2",
                "--profile",
                profile.toString(),
                "--link",
                "rtt=10,rate=2000", // confirmed by the link check even on a loaded VM (see the sweep test)
                "--rounds",
                "1",
                "--prompt-lens",
                "8",
                "--output-lens",
                "8",
                "--strategies",
                "inproc-swap,http-push-all,tree",
                "--freshness-steps",
                "3",
                "--bytes-scale",
                "100",
                "--model-gb",
                "0.05",
                "--timeline", // each update's own span: the pushes are checked one by one
                "--out",
                out.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        // the simulated hosts keep their logs with the run's, in its results folder
        assertTrue(Files.size(out.resolve("logs/sim-host-1.log")) > 0, "the first host's log in the results folder");
        assertTrue(
                r.err().contains("strategy 'tree' is now called 'http-push-tree'"),
                "a former name works, and says its new one: " + r.err());
        var d = RunData.load(out);
        var legs = d.legs();
        assertEquals(
                Set.of("inprocN", "httpN", "lb"),
                new HashSet<>(legs.stringColumn("topology").asList()));
        double inproc = legs.where(legs.stringColumn("topology").isEqualTo("inprocN"))
                .doubleColumn("mean_e2el_ms")
                .get(0);
        double http = legs.where(legs.stringColumn("topology")
                        .isEqualTo("httpN")
                        .and(legs.stringColumn("connection").isEqualTo("keep-alive")))
                .doubleColumn("mean_e2el_ms")
                .get(0);
        var run = Json.parse(Files.readString(out.resolve("run.json")));
        var check = run.path("config").path("fleet").path("link_check");
        // each request crosses the link once, there and back. Measured on what the engines' noise cannot move: the
        // time outside the engine (e2el minus the servers' own timings), HTTP minus in-process, is at least the round
        // trip the check measured less its tolerance. Whole e2el is not: the in-process engines' steps and the
        // hosts' differ by more than a millisecond from run to run (one run read 8.5 ms more over a 9.7 ms link)
        double floor =
                check.path("rtt_ms").asDouble() - check.path("tolerance_ms").asDouble();
        assertTrue(floor > 5, "the check measured a 10 ms link: " + check);
        var bars = Breakdown.chart(d).getSeriesMap().get("client + transport");
        List<Object> names = new ArrayList<>(bars.getXData());
        List<Number> rest = new ArrayList<>(bars.getYData());
        double outside = rest.get(names.indexOf("httpN/keep-alive")).doubleValue()
                - rest.get(names.indexOf("inprocN/none")).doubleValue();
        assertTrue(
                outside > floor,
                "the same simulated engines, plus a 10 ms link: outside the engine +" + outside + " ms (e2el " + inproc
                        + " vs " + http + "), link " + check);
        assertEquals("sim:2x2", run.path("config").path("fleet").path("spec").asText(), run.toString());
        assertTrue(Files.readString(out.resolve("REPORT.md")).contains("simulated fleet sim:2x2"));
        assertTrue(run.path("config").path("fleet").path("assumptions").size() >= 3, run.toString());

        var f = d.freshness().orElseThrow();
        assertEquals(
                List.of("inproc-swap", "http-push-all", "http-push-tree"),
                f.stringColumn("strategy").asList());
        for (var row : f) {
            String s = row.getString("strategy");
            assertEquals(0, row.getNumber("lost"), s + " lost nothing");
            assertEquals(3 * 4, row.getNumber("samples"), 0, s + ": 3 steps of 4 groups (at least one per port)");
            if (s.equals("inproc-swap")) {
                assertEquals(0, row.getNumber("max_lag"), "in-process swaps before the next batch");
                continue;
            }
            // step 0 samples the version the hosts hold, before any push (the lag leaves it out); steps 1 and 2 run
            // while the push of the next one is on the links
            assertEquals(
                    1.0,
                    row.getNumber("mean_lag"),
                    1e-3,
                    s + ": every host serves one version, one behind while a push is under way");
            assertEquals(1, row.getNumber("max_lag"), 0, s);
            double measured = row.getNumber("mean_propagation_ms"),
                    predicted = row.getNumber("predicted_propagation_ms");
            // busy work beside the run only adds time, and no push beats the link by more than the shaper's burst
            // (a 0.5 MB push to two hosts read 396 ms against 410 from bytes over rates and one round trip): every
            // push takes at least 90 % of the prediction, which a link ten times faster fails; the least disturbed
            // comes within the documented 25 % of it (beside a CPU hog one push of three read 40 % over, moving the
            // mean with it)
            List<Double> pushes = updateSpansMs(out, s);
            assertEquals(3, pushes.size(), s + ": one update after each step: " + pushes);
            for (double ms : pushes) assertTrue(ms >= 0.9 * predicted, s + ": a push beat its link: " + pushes);
            assertEquals(
                    predicted,
                    pushes.stream().mapToDouble(Double::doubleValue).min().orElseThrow(),
                    predicted * 0.25,
                    s + ": the push crossed the shaped links at their scaled rate: " + pushes);
            assertEquals(2 * 0.05e9, row.getNumber("bytes_per_update"), 1, s + ": the real bytes to both hosts");
            assertTrue(
                    row.getNumber("mean_step_ms") > 0.8 * measured,
                    s + ": a step waits for the update before it: " + row.getNumber("mean_step_ms"));
        }
        assertTrue(Files.readString(out.resolve("REPORT.md")).contains("predicted_propagation_ms"));
        assertEquals(List.of(), NetnsFleet.leftovers());
    }

    /** Each update of one strategy, in ms, from the trainer's timeline. */
    private static List<Double> updateSpansMs(Path run, String strategy) throws Exception {
        List<Double> ms = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("trace").resolve("trainer.jsonl"))) {
            var span = Json.parse(line);
            if (span.path("name").asText().equals("update")
                    && span.path("track").asText().equals("trainer " + strategy))
                ms.add(span.path("dur_us").asDouble() / 1e3);
        }
        return ms;
    }

    @Test
    void aPushLargerThanASimulatedHostTakesIsRefusedBeforeAnythingStarts() throws Exception {
        for (String[] cmd : List.of(
                new String[] {"compare", "--fleet", "sim:2x2"}, new String[] {"sim", "sweep", "--hosts", "2"})) {
            List<String> args = new ArrayList<>(List.of(cmd));
            args.addAll(List.of("--model-gb", "16", "--bytes-scale", "100"));
            Processes.Run r = Processes.run(60, args.toArray(String[]::new));
            assertNotEquals(0, r.exit(), r.out() + r.err());
            assertTrue(r.err().contains("160 MB per push") && r.err().contains("raise --bytes-scale"), r.err());
            assertEquals(List.of(), NetnsFleet.leftovers());
        }
    }
}
