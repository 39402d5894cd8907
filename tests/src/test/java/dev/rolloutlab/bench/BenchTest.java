package dev.rolloutlab.bench;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.RequestRecord;
import dev.rolloutlab.results.Slo;
import dev.rolloutlab.results.Summary;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.FixedDelayOpenAiFixture;
import dev.rolloutlab.testing.Logs;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.Json;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BenchTest {
    static ServerGroup group;
    static OkHttpClient http = OpenAiClient.http(32, Duration.ofSeconds(60));

    @BeforeAll
    static void start() {
        group = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                .ports(List.of(0, 0))
                .servedModelName("tiny")
                .weightAdmin("tok")
                .idleTimeout(Duration.ofSeconds(30))
                .build());
    }

    @AfterAll
    static void stop() {
        group.close();
    }

    static Workload.Sampling sampling(int max, int n, boolean stream) {
        return new Workload.Sampling(
                CompletionRequest.Endpoint.COMPLETIONS, "tiny", max, null, 1.0, 1L, n, stream, true);
    }

    /**
     * {@code --scrape-metrics}: metrics.csv holds serve's series from a sample before the first request to one after
     * the last, so its finished-request counter grows by exactly the requests the bench sent.
     */
    @Test
    void scrapedMetricsCoverTheWholeRun() throws Exception {
        Path out = TestModels.tempDir("bench-metrics").resolve("run");
        String target = group.urls().get(1);
        Processes.Run r = Processes.run(
                120,
                "bench",
                "--target",
                target,
                "--api-key",
                "tok", // serve's admin token also opens its /metrics
                "--num-prompts",
                "12",
                "--max-tokens",
                "4",
                "--concurrency",
                "2",
                "--warmup",
                "0",
                "--scrape-metrics",
                "--out",
                out.toString());
        assertEquals(0, r.exit(), r.err());
        List<String> rows = Files.readAllLines(out.resolve("metrics.csv"));
        assertEquals("topology,connection,workload,round,time_s,server,metric,value", rows.get(0));
        List<Double> finished = rows.stream()
                .filter(l -> l.contains(",\"vllm:request_success_total{finished_reason=\"\"length\"\"}\","))
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(',') + 1)))
                .toList();
        assertTrue(finished.size() >= 2, "a sample before and one after: " + rows);
        assertEquals(12, finished.getLast() - finished.getFirst(), 1e-9, finished.toString());
        assertTrue(
                rows.stream().anyMatch(l -> l.contains(target) && l.contains("vllm:num_requests_running")),
                rows.toString());
    }

    /**
     * Multi-turn sessions: every turn resends the conversation, its answer and a tool result, so turn t's prompt is
     * turn t-1's plus the answer and the tool tokens, and the engine's prefix cache serves the history.
     */
    @Test
    void sessionsResendTheConversationAndTheEngineReusesTheHistory() throws Exception {
        Path out = TestModels.tempDir("bench-sessions").resolve("run");
        Processes.Run r = Processes.run(
                120,
                "bench",
                "--target",
                group.urls().get(0),
                "--endpoint",
                "completions",
                "--seed",
                "101", // prompts no other test of this class sent: the engines keep what they saw
                "--sessions",
                "3",
                "--turns",
                "3",
                "--tool-tokens",
                "20",
                "--tool-ms",
                "5",
                "--input-len",
                "50",
                "--max-tokens",
                "12",
                "--concurrency",
                "3",
                "--out",
                out.toString());
        assertEquals(0, r.exit(), r.err());
        List<JsonNode> recs = records(out);
        assertEquals(9, recs.size(), "3 sessions of 3 turns");
        for (JsonNode n : recs) {
            int turn = n.path("request_id").asInt() % 3;
            assertEquals(200, n.path("status").asInt(), n.toString());
            assertEquals(50 + turn * (12 + 20), n.path("prompt_tokens").asInt(), "turn " + turn + ": " + n);
            int history = turn == 0 ? 0 : 50 + (turn - 1) * 32 + 12 - 1; // the last answer token was never fed back
            int cached = n.path("server_timing").path("cached_tokens").asInt(-1);
            assertEquals(history / 16 * 16, cached, "turn " + turn + " reuses its history in whole blocks: " + n);
        }
    }

    /**
     * The shipped synthetic Mooncake trace, scaled to the tiny model: every request is sent at its time in the trace,
     * and requests whose hash ids share leading blocks find them cached.
     */
    @Test
    void aMooncakeTraceIsReplayedAtItsTimesAndItsSharedBlocksHitTheCache() throws Exception {
        Path out = TestModels.tempDir("bench-trace").resolve("run");
        Processes.Run r = Processes.run(
                120,
                "bench",
                "--target",
                group.urls().get(0),
                "--endpoint",
                "completions",
                "--trace",
                "synthetic",
                "--trace-block-tokens",
                "32",
                "--max-tokens",
                "8",
                "--out",
                out.toString());
        assertEquals(0, r.exit(), r.err());
        List<JsonNode> recs = records(out);
        List<String> trace = new String(
                        dev.rolloutlab.bench.MooncakeTrace.class
                                .getResourceAsStream("synthetic-mooncake-trace.jsonl")
                                .readAllBytes(),
                        java.nio.charset.StandardCharsets.UTF_8)
                .lines()
                .toList();
        assertEquals(trace.size(), recs.size(), "every line of the trace sent once");
        double t0 = Json.parse(trace.get(0)).path("timestamp").asDouble();
        int hits = 0;
        for (JsonNode n : recs) {
            JsonNode line = Json.parse(trace.get(n.path("request_id").asInt()));
            double at = (line.path("timestamp").asDouble() - t0) * 1e6;
            assertEquals(at, n.path("scheduled_ns").asDouble(), 1e6, "scheduled at its time in the trace: " + n);
            assertEquals(200, n.path("status").asInt(), n.toString());
            assertEquals(
                    (int) Math.ceil(line.path("input_length").asDouble() * 32 / 512),
                    n.path("prompt_tokens").asInt(),
                    "input length scaled to 32-token blocks");
            if (n.path("server_timing").path("cached_tokens").asInt() > 0) hits++;
        }
        assertTrue(hits > recs.size() / 2, "the trace's shared documents are served from cache: " + hits);
    }

    @Test
    void aGroupSentAsSeparateRequestsComputesItsPromptOnce() throws Exception {
        Path out = TestModels.tempDir("bench-groups").resolve("run");
        Processes.Run r = Processes.run(
                120,
                "bench",
                "--target",
                group.urls().get(1),
                "--endpoint",
                "completions",
                "--num-prompts",
                "2",
                "--seed",
                "202",
                "--group-size",
                "8",
                "--input-len",
                "100",
                "--max-tokens",
                "4",
                "--concurrency",
                "8",
                "--out",
                out.toString());
        assertEquals(0, r.exit(), r.err());
        List<JsonNode> recs = records(out);
        assertEquals(16, recs.size(), "2 groups of 8");
        int computed = 0;
        for (JsonNode n : recs)
            computed += n.path("prompt_tokens").asInt()
                    - n.path("server_timing").path("cached_tokens").asInt();
        assertEquals(2 * (100 + 7 * (100 - 96)), computed, "each group's prompt once, then only the tail");
    }

    /** requests.jsonl, in request order. */
    private static List<JsonNode> records(Path run) throws Exception {
        List<JsonNode> recs = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("requests.jsonl"))) recs.add(Json.parse(line));
        recs.sort(java.util.Comparator.comparingLong(n -> n.path("request_id").asLong()));
        return recs;
    }

    @Test
    void recordsMatchWhatTheServerProduced() throws Exception {
        // move port 1 to weights version 1, so the records must carry the right version per backend
        OpenAiClient admin = new OpenAiClient(http, group.urls().get(1), null, true);
        var p = admin.post(
                "/admin/perturb_weights",
                Map.of("seed", 1, "scale", 0.001, "num_leaves", 1),
                Map.of("X-Admin-Token", "tok"));
        assertEquals(200, p.status(), p.body());
        long v1 = p.json().path("version").asLong();

        Workload w = Workload.synthetic(24, LengthDist.fixed(20), sampling(8, 3, true), 1000, 7);
        List<Target> targets = group.urls().stream()
                .map(u -> Target.http(new OpenAiClient(http, u, null, true)))
                .toList();
        LoadGenerator.Run run = new LoadGenerator(
                        targets, w, LoadGenerator.Options.closed(Topology.HTTP1, Connection.KEEP_ALIVE, 4, 24))
                .run();
        assertEquals(24, run.records().size());
        assertEquals(24, run.summary().completed());
        for (RequestRecord r : run.records()) {
            assertTrue(r.ok(), r.error());
            assertEquals(20, r.promptTokens());
            assertEquals(24, r.completionTokens(), "n=3 samples of 8 tokens");
            assertEquals(r.backend().equals("1") ? v1 : 0, r.weightsVersion(), "version of backend " + r.backend());
            assertTrue(r.ttftMs() < r.e2elMs(), "TTFT before the end of a streamed request");
            assertTrue(r.scheduledNs() <= r.sentNs() && r.sentNs() < r.firstTokenNs() && r.firstTokenNs() <= r.endNs());
        }
        assertEquals(
                24.0 * 24 / run.summary().durationS(),
                run.summary().throughput().outputTokens().estimate(),
                1e-6);
        assertTrue(run.summary().tpot().mean().estimate() > 0
                && run.summary().itl().mean().estimate() > 0);
        assertEquals(
                2, run.records().stream().map(RequestRecord::backend).distinct().count());
    }

    @Test
    void openLoopRateIsAccurateAndLatencyFromTheScheduleIncludesQueueing() throws Exception {
        try (FixedDelayOpenAiFixture f = new FixedDelayOpenAiFixture(20)) {
            List<Target> t = List.of(Target.http(new OpenAiClient(http, f.url(), null, true)));
            Workload w = Workload.synthetic(10, LengthDist.fixed(4), sampling(1, 1, false), 1000, 1);
            var o = new LoadGenerator.Options(
                    Topology.HTTP1,
                    Connection.KEEP_ALIVE,
                    0,
                    50,
                    LoadGenerator.Arrivals.CONSTANT,
                    0,
                    100,
                    null,
                    0,
                    3,
                    LoadGenerator.Routing.ROUND_ROBIN,
                    Slo.NONE,
                    null);
            LoadGenerator.Run run = new LoadGenerator(t, w, o).run();
            List<RequestRecord> rs = run.records();
            assertEquals(100, run.summary().completed());
            double sentRate = (rs.size() - 1)
                    / ((rs.get(rs.size() - 1).sentNs() - rs.get(0).sentNs()) / 1e9);
            // the schedule is exact and only the first and last sends set the measured rate: 5 % is 50 ms of lateness
            // at
            // either end over the 2 s run (margin for a busy machine)
            assertEquals(50, sentRate, 2.5, "measured rate within 5% of --rate");
            // the fixture's 20 ms is a physical floor; 15 ms above or below covers a loopback request on a busy machine
            // (margin)
            assertEquals(20, run.summary().meanE2elFromDispatchMs(), 15);

            // slow the server and cap concurrency: requests queue in the client, so latency from the schedule grows
            f.setDelayMs(100);
            var capped = new LoadGenerator.Options(
                    Topology.HTTP1,
                    Connection.KEEP_ALIVE,
                    0,
                    50,
                    LoadGenerator.Arrivals.CONSTANT,
                    2,
                    60,
                    null,
                    0,
                    3,
                    LoadGenerator.Routing.ROUND_ROBIN,
                    Slo.NONE,
                    null);
            LoadGenerator.Run slow = new LoadGenerator(t, w, capped).run();
            Summary s = slow.summary();
            assertEquals(
                    100,
                    s.meanE2elFromDispatchMs(),
                    30,
                    "latency from dispatch stays the service time"); // 100 ms floor, 30 % margin
            assertTrue(
                    s.e2el().mean().estimate() > 3 * s.meanE2elFromDispatchMs(),
                    "scheduled-time latency " + s.e2el().mean().estimate()
                            + " must include the queueing that dispatch latency " + s.meanE2elFromDispatchMs()
                            + " hides");
            List<RequestRecord> r2 = slow.records();
            assertTrue(r2.get(r2.size() - 1).e2elMs() > r2.get(5).e2elMs() * 3, "queueing delay grows through the run");
        }
    }

    @Test
    void failuresAreCountedWithTheirErrorNeverACrash() throws Exception {
        try (var dead = new ServerSocket(0)) {
            int port = dead.getLocalPort();
            dead.close();
            List<Target> t = List.of(
                    Target.http(new OpenAiClient(http, "http://127.0.0.1:" + port, null, true)),
                    Target.http(
                            new OpenAiClient(http, group.urls().get(0), "wrong-key-is-ignored-without-api-key", true)));
            Workload w = Workload.synthetic(4, LengthDist.fixed(4), sampling(2, 1, true), 1000, 1);
            LoadGenerator.Run run = new LoadGenerator(
                            t, w, LoadGenerator.Options.closed(Topology.HTTP1, Connection.KEEP_ALIVE, 2, 8))
                    .run();
            assertEquals(4, run.summary().failed());
            assertEquals(4, run.summary().completed());
            assertTrue(
                    run.records().stream()
                            .filter(r -> !r.ok())
                            .allMatch(r -> r.error().contains("ConnectException")),
                    run.records().toString());
        }
        // 4xx: a model the server does not serve
        Workload bad = new Workload("bad", List.of(CompletionRequest.completion("nope", new int[] {5, 6}, 2, 0)));
        LoadGenerator.Run r = new LoadGenerator(
                        List.of(Target.http(new OpenAiClient(http, group.urls().get(0), null, true))),
                        bad,
                        LoadGenerator.Options.closed(Topology.HTTP1, Connection.KEEP_ALIVE, 1, 2))
                .run();
        assertEquals(2, r.summary().failed());
        assertTrue(
                r.records().get(0).error().startsWith("HTTP 404"),
                r.records().get(0).error());
    }

    @Test
    void benchCliWritesAResultsFolderAndNamesBadFlags() throws Exception {
        Path out = TestModels.tempDir("bench").resolve("run");
        Processes.Run ok = Processes.run(
                120,
                "bench",
                "--target",
                group.urls().get(0),
                "--num-prompts",
                "12",
                "--concurrency",
                "3",
                "--max-tokens",
                "4",
                "--n-samples",
                "2",
                "--no-keep-alive",
                "--out",
                out.toString());
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(ok.out().contains("results: " + out), ok.out());
        List<String> lines = Files.readAllLines(out.resolve("requests.jsonl"));
        assertEquals(12, lines.size());
        JsonNode first = Json.parse(lines.get(0));
        for (String f : List.of(
                "topology",
                "backend",
                "request_id",
                "prompt_tokens",
                "completion_tokens",
                "weights_version",
                "scheduled_ns",
                "sent_ns",
                "first_token_ns",
                "end_ns",
                "status")) assertTrue(first.has(f), "field " + f);
        assertEquals("close", first.path("connection").asText());
        assertEquals(8, first.path("completion_tokens").asInt());
        String csv = Files.readString(out.resolve("summary.csv"));
        assertTrue(csv.startsWith("topology,connection,workload,round,completed,failed"), csv);
        assertTrue(Files.readString(out.resolve("run.json")).contains("\"cores\""));

        Processes.Run again = Processes.run(
                60,
                "bench",
                "--target",
                group.urls().get(0),
                "--num-prompts",
                "1",
                "--concurrency",
                "1",
                "--out",
                out.toString());
        assertNotEquals(0, again.exit());
        assertTrue(again.err().contains("never overwritten"), again.err());

        Processes.Run badFlag =
                Processes.run(60, "bench", "--target", group.urls().get(0), "--concurency", "3");
        assertEquals(2, badFlag.exit());
        assertTrue(badFlag.err().contains("--concurency"), badFlag.err());
        Processes.Run both =
                Processes.run(60, "bench", "--target", group.urls().get(0), "--concurrency", "3", "--rate", "2");
        assertEquals(2, both.exit());
        assertTrue(both.err().contains("--concurrency") && both.err().contains("--rate"), both.err());
        Processes.Run badUrl = Processes.run(60, "bench", "--target", "not a url", "--concurrency", "1");
        assertEquals(2, badUrl.exit());
        assertTrue(badUrl.err().contains("'not a url' is not host:port"), badUrl.err());
    }

    @Test
    void anInterruptedRunKeepsWhatItMeasuredAndSaysSo() throws Exception {
        Path out = TestModels.tempDir("interrupt").resolve("run");
        Process p = Processes.builder(
                        "bench",
                        "--target",
                        group.urls().get(0),
                        "--num-prompts",
                        "0",
                        "--duration-sec",
                        "60",
                        "--concurrency",
                        "2",
                        "--max-tokens",
                        "4",
                        "--out",
                        out.toString())
                .redirectError(out.resolveSibling("bench.err").toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        // the event: a progress line reports requests done, so there is something to keep
        Pattern served = Pattern.compile("\\] [1-9][0-9]* requests");
        assertTrue(
                Await.until(
                        () -> served.matcher(Logs.read(out.resolveSibling("bench.err")))
                                .find(),
                        Duration.ofSeconds(60)),
                Logs.read(out.resolveSibling("bench.err")));
        p.destroy(); // SIGTERM: the same stop path as Ctrl-C
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        JsonNode run = Json.parse(Files.readString(out.resolve("run.json")));
        assertTrue(run.path("incomplete").asBoolean(), run.toString());
        assertTrue(run.path("incomplete_reason").asText().contains("interrupted"));
        assertTrue(Files.readAllLines(out.resolve("requests.jsonl")).size() > 0);
    }
}
