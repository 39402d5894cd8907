package dev.rolloutlab.report;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.bench.LoadGenerator;
import dev.rolloutlab.bench.Target;
import dev.rolloutlab.bench.Workload;
import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.lb.LbOptions;
import dev.rolloutlab.lb.LoadBalancer;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.SpanLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/**
 * A run's timeline from real processes' spans: the load generator's, the balancer's and serve's, joined by the W3C
 * trace id the client sends. Every span a server kept of a request lies inside the client's own span of it, a request
 * the balancer failed over keeps its trace on the backend that answered, and a weight update's drain lies over the
 * requests it waited for.
 */
class TimelineTest {
    private static final OkHttpClient HTTP = OpenAiClient.http(16, Duration.ofSeconds(60));
    private static final String ADMIN = "adm-trace";

    @Test
    void everyRequestsSpansNestInsideItsClientSpanAndAFailoverKeepsItsTrace() throws Exception {
        Path run = TestModels.tempDir("timeline");
        Path trace = run.resolve("trace");
        String dead;
        try (var closed = new java.net.ServerSocket(0)) {
            dead = "http://127.0.0.1:" + closed.getLocalPort();
        } // closed: nothing listens there now
        try (ServerGroup servers = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                        .ports(List.of(0, 0))
                        .servedModelName("tiny")
                        .trace(trace.resolve("serve.jsonl"))
                        .build());
                LoadBalancer lb = new LoadBalancer(LbOptions.builder()
                        .backends(List.of(
                                dead, servers.urls().get(0), servers.urls().get(1)))
                        .healthInterval(Duration.ofHours(1)) // no probe: the dead backend is found by trying it
                        .trace(trace.resolve("lb.jsonl"))
                        .build());
                SpanLog client = SpanLog.open(trace.resolve("client.jsonl"), "client")) {
            run(List.of(Target.http(new OpenAiClient(HTTP, lb.url(), null, true))), 24, 8, client);
        } // closing flushes every span file
        assertNotNull(Timeline.write(run));
        JsonNode doc = Json.parse(Files.readString(run.resolve(Timeline.FILE)));
        List<Span> spans = spans(doc);
        List<String> processes = new ArrayList<>();
        for (JsonNode e : doc.path("traceEvents"))
            if (e.path("name").asText().equals("process_name"))
                processes.add(e.path("args").path("name").asText());
        assertEquals(List.of("client", "lb", "serve"), processes, "one process per role, in a request's order");

        Map<String, List<Span>> byTrace = new HashMap<>();
        for (Span s : spans)
            if (s.traceId != null)
                byTrace.computeIfAbsent(s.traceId, k -> new ArrayList<>()).add(s);
        List<Span> requests = spans.stream()
                .filter(s -> s.process.equals("client") && s.name.equals("request"))
                .toList();
        assertEquals(24, requests.size());
        for (Span r : requests) {
            assertEquals(200, r.args.path("status").asInt(), r.toString());
            List<Span> parts = byTrace.get(r.traceId);
            assertTrue(parts.stream().anyMatch(s -> s.process.equals("serve") && s.name.equals("prefill")), r.traceId);
            assertTrue(parts.stream().anyMatch(s -> s.process.equals("lb") && s.name.equals("relay")), r.traceId);
            for (Span s : parts) // 0.2 us: trace.json's rounding of start and length to 0.1 us each
            assertTrue(
                        s.ts >= r.ts - 0.2 && s.ts + s.dur <= r.ts + r.dur + 0.2,
                        s + " lies inside the client's " + r + " (one host, one monotonic clock)");
        }
        // the first request went to the dead backend first (round robin starts there) and failed over
        Span failed = spans.stream()
                .filter(s -> s.name.equals("attempt")
                        && dead.endsWith("//" + s.args.path("backend").asText()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no attempt on the dead backend: " + spans.size() + " spans"));
        assertTrue(failed.args.path("outcome").asText().startsWith("failed"), failed.toString());
        List<Span> sameTrace = byTrace.get(failed.traceId);
        assertTrue(
                sameTrace.stream()
                        .anyMatch(s -> s.name.equals("attempt")
                                && s.args.path("outcome").asText().equals("status 200")),
                "the retry on a live backend carries the same trace: " + sameTrace);
        assertTrue(sameTrace.stream().anyMatch(s -> s.process.equals("serve")), "and serve saw the client's trace");
        assertTrue(
                spans.stream()
                        .anyMatch(s ->
                                s.name.equals("step") && s.args.path("decoded").asInt(-1) >= 0),
                "the engines' steps are on the timeline");
    }

    @Test
    void aWeightUpdatesDrainLiesOverTheRequestsItWaitedFor() throws Exception {
        Path run = TestModels.tempDir("timeline-update");
        Path trace = run.resolve("trace");
        byte[] weights = Safetensors.toBytes(Checkpoint.readTensors(TestModels.tiny()), DType.F32);
        try (ServerGroup servers = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                        .servedModelName("tiny")
                        .weightAdmin(ADMIN)
                        .trace(trace.resolve("serve.jsonl"))
                        .build());
                SpanLog client = SpanLog.open(trace.resolve("client.jsonl"), "client")) {
            OpenAiClient c = new OpenAiClient(HTTP, servers.urls().get(0), null, true);
            // A tiny model's requests last tens of milliseconds, less than a stall on a busy machine, so one update
            // may find nothing left to drain: the load runs until a drain has found requests in flight.
            AtomicBoolean drained = new AtomicBoolean();
            CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
                while (!drained.get()) run(List.of(Target.http(c)), 8, 96, client);
            });
            for (int attempt = 0; attempt < 20 && !drained.get(); attempt++) {
                assertTrue(
                        Await.until(
                                () -> c.get("/get_load")
                                                .json()
                                                .path("num_running_reqs")
                                                .asInt()
                                        > 0,
                                Duration.ofSeconds(30)),
                        "requests running before the update");
                var r = c.postBytes(
                        "/admin/update_weights",
                        weights,
                        "application/octet-stream",
                        Map.of("X-Admin-Token", ADMIN, "X-Drain-Ms", "20000"));
                assertEquals(200, r.status(), r.body());
                drained.set(r.json().path("drain").path("in_flight").asInt() > 0);
            }
            assertTrue(drained.get(), "an update found requests in flight within 20 tries");
            load.join();
        }
        Timeline.write(run);
        List<Span> spans = spans(Json.parse(Files.readString(run.resolve(Timeline.FILE))));
        Span drain = spans.stream()
                .filter(s -> s.name.equals("drain") && s.args.path("in_flight").asInt() > 0)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no drain span with requests in flight"));
        assertTrue(
                spans.stream()
                        .anyMatch(s -> s.name.equals("update")
                                && s.ts <= drain.ts
                                && drain.ts + drain.dur <= s.ts + s.dur + 5),
                "the update holds its drain");
        long overlapping = spans.stream()
                .filter(s -> s.process.equals("client") && s.name.equals("request"))
                .filter(s -> s.ts < drain.ts && s.ts + s.dur > drain.ts)
                .count();
        assertTrue(overlapping > 0, "the requests in flight when the drain began run on inside it: " + drain);
    }

    /** {@code n} requests of {@code maxTokens} streamed tokens at concurrency 4, their spans kept in {@code log}. */
    private static void run(List<Target> targets, int n, int maxTokens, SpanLog log) {
        Workload w = Workload.synthetic(
                n,
                dev.rolloutlab.bench.LengthDist.fixed(24),
                new Workload.Sampling(
                        CompletionRequest.Endpoint.COMPLETIONS, "tiny", maxTokens, null, 1.0, 7L, 1, true, true),
                1000,
                7);
        try {
            new LoadGenerator(targets, w, LoadGenerator.Options.closed(Topology.LB, Connection.KEEP_ALIVE, 4, n))
                    .traced(log)
                    .run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A complete event of trace.json, by its process's name. */
    private record Span(String process, String name, double ts, double dur, String traceId, JsonNode args) {}

    private static List<Span> spans(JsonNode doc) {
        Map<Integer, String> processes = new HashMap<>();
        for (JsonNode e : doc.path("traceEvents"))
            if (e.path("name").asText().equals("process_name"))
                processes.put(e.path("pid").asInt(), e.path("args").path("name").asText());
        List<Span> out = new ArrayList<>();
        for (JsonNode e : doc.path("traceEvents")) {
            if (!e.path("ph").asText().equals("X")) continue;
            assertTrue(e.has("ts") && e.has("dur") && e.has("pid") && e.has("tid") && e.has("name"), e.toString());
            out.add(new Span(
                    processes.get(e.path("pid").asInt()),
                    e.path("name").asText(),
                    e.path("ts").asDouble(),
                    e.path("dur").asDouble(),
                    e.path("args").hasNonNull("trace_id")
                            ? e.path("args").path("trace_id").asText()
                            : null,
                    e.path("args")));
        }
        return out;
    }
}
