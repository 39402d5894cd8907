package dev.rolloutlab.lb;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.bench.LengthDist;
import dev.rolloutlab.bench.LoadGenerator;
import dev.rolloutlab.bench.Target;
import dev.rolloutlab.bench.Workload;
import dev.rolloutlab.cluster.RegistryServer;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.RequestRecord;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.HangAfterHeadersFixture;
import dev.rolloutlab.testing.Opened;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import okhttp3.Call;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's four scenarios plus streaming, kill-under-load, update windows and load-aware routing, on real servers.
 */
@Tag("fast") // the edit loop: tests/run --fast
class LoadBalancerTest {
    static final OkHttpClient HTTP = OpenAiClient.http(64, Duration.ofSeconds(60));

    @AutoClose
    final Opened open = new Opened();

    /** n single-port servers, backend ids 0..n-1, each closable on its own. */
    List<ServerGroup> servers(int n, Path model, String adminToken) {
        List<ServerGroup> gs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(model)
                    .engines(ServerGroup.Engines.SHARED)
                    .backendIdBase(i)
                    .servedModelName("m")
                    .weightAdmin(adminToken)
                    .idleTimeout(Duration.ofSeconds(30))
                    .build());
            open.keep(g);
            gs.add(g);
        }
        return gs;
    }

    LoadBalancer lb(List<ServerGroup> gs, Policy p) {
        LoadBalancer lb = new LoadBalancer(LbOptions.builder()
                .backends(gs.stream().map(g -> g.urls().get(0)).toList())
                .policy(p)
                .backendTimeout(Duration.ofSeconds(20))
                .healthInterval(Duration.ofMillis(200))
                .adminToken("lbtok")
                .build());
        open.keep(lb);
        return lb;
    }

    static OpenAiClient.Exchange ping(OpenAiClient c) {
        return c.post(
                "/v1/chat/completions",
                Map.of("messages", List.of(Map.of("role", "user", "content", "ping")), "max_tokens", 2),
                Map.of());
    }

    @Test
    void roundRobinDistributionKeepsTheSeedsOrder() {
        LoadBalancer lb = lb(servers(4, TestModels.tiny(), null), Policy.parse("round-robin"));
        OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            var x = ping(c);
            assertEquals(200, x.status(), x.body());
            ids.add(x.headers().get("X-Backend-Id"));
            assertNotNull(x.headers().get("X-OpenAI-LB-Backend"));
        }
        assertEquals(Set.of("0", "1", "2", "3"), new HashSet<>(ids.subList(0, 4)));
        assertEquals(ids.subList(0, 4), ids.subList(4, 8));
    }

    @Test
    void failoverWhenOneBackendIsDown_and502WhenAllAre() {
        List<ServerGroup> gs = servers(4, TestModels.tiny(), null);
        LoadBalancer lb = lb(gs, Policy.parse("round-robin"));
        OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
        gs.get(1).close();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 12; i++) {
            var x = ping(c);
            assertEquals(200, x.status(), x.body());
            seen.add(x.headers().get("X-Backend-Id"));
        }
        assertFalse(seen.isEmpty());
        assertTrue(Set.of("0", "2", "3").containsAll(seen), seen.toString());
        gs.forEach(ServerGroup::close);
        var x = ping(c);
        assertEquals(502, x.status());
        assertEquals("all_backends_failed", x.json().path("error").path("code").asText());
        assertTrue(x.json().path("error").path("message").asText().startsWith("all backends failed"), x.body());
        assertFalse(x.json().path("detail").asText().isEmpty());
    }

    @Test
    void thirtyConcurrentRequestsThroughTenThreads() throws Exception {
        LoadBalancer lb = lb(servers(4, TestModels.tiny(), null), Policy.parse("round-robin"));
        OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
        try (ExecutorService pool = Executors.newFixedThreadPool(10)) {
            List<CompletableFuture<OpenAiClient.Exchange>> fs = new ArrayList<>();
            for (int i = 0; i < 30; i++) fs.add(CompletableFuture.supplyAsync(() -> ping(c), pool));
            Set<String> ids = new HashSet<>();
            for (var f : fs) {
                assertEquals(200, f.get().status());
                ids.add(f.get().headers().get("X-Backend-Id"));
            }
            assertTrue(ids.size() >= 2, ids.toString());
        }
    }

    @Test
    void streamedChunksArriveBeforeTheBackendFinishes() {
        LoadBalancer lb = lb(servers(1, TestModels.tiny(), null), Policy.parse("round-robin"));
        OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
        var r = c.complete(CompletionRequest.chat(null, "tell me a story", 300, 1.0)
                .withSampling(1, 3L, true)
                .withStream(true, true));
        assertTrue(r.ok(), r.error());
        assertEquals(300, r.chunkNs().length);
        // relative to the request's own length, not a fixed number of ms (300 tiny-model tokens decoded in 27 ms on
        // one run, and a cold first request spends most of its time before the first token): a relay that buffered
        // would deliver every chunk together at the end, parsed within about a millisecond, spanning none of it
        double totalMs = (r.endNs() - r.sentNs()) / 1e6;
        double spreadMs = (r.chunkNs()[r.chunkNs().length - 1] - r.chunkNs()[0]) / 1e6;
        assertTrue(
                spreadMs > 0.1 * totalMs,
                "chunks must trickle through as generated, not arrive in one burst (spread " + spreadMs + " of "
                        + totalMs + " ms)");
    }

    @Test
    void aBackendKilledUnderLoadLosesOnlyRequestsThatHadStarted(@TempDir Path dir) throws Exception {
        // the victim is a serve process killed with SIGKILL, as a crashed host: an in-process server's close drains
        // gracefully, and while it drained the balancer's health probe marked it down before any request found its
        // port closed, so none failed over (in a loaded suite run, for 30 s)
        List<ServerGroup> gs = servers(2, TestModels.tiny(), null);
        ServeProcess victimServe = open.keep(ServeProcess.start(
                List.of("--model", TestModels.tiny().toString(), "--num-servers", "1", "--base-port", "0"),
                dir.resolve("victim.log"),
                Duration.ofSeconds(120)));
        LoadBalancer lb = open.keep(new LoadBalancer(LbOptions.builder()
                .backends(List.of(
                        gs.get(0).urls().get(0),
                        victimServe.urls().get(0),
                        gs.get(1).urls().get(0)))
                .policy(Policy.parse("round-robin"))
                .backendTimeout(Duration.ofSeconds(20))
                .healthInterval(Duration.ofMillis(200))
                .build()));
        OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
        // a closed loop keeps new requests arriving after the kill until some have failed over, then stops
        int cap = 200_000;
        Workload w = Workload.synthetic(
                1600,
                LengthDist.fixed(8),
                new Workload.Sampling(CompletionRequest.Endpoint.COMPLETIONS, null, 24, null, 1.0, 1L, 1, true, true),
                1000,
                1);
        LoadGenerator gen = new LoadGenerator(
                List.of(Target.http(c)), w, LoadGenerator.Options.closed(Topology.LB, Connection.KEEP_ALIVE, 12, cap));
        var run = CompletableFuture.supplyAsync(() -> {
            try {
                return gen.run();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        Backend victim = lb.backends().get(1);
        assertTrue(
                Await.until(() -> victim.stats.requests.get() >= 10, Duration.ofSeconds(30)),
                "the backend took its share before the kill");
        victimServe.jvm().kill();
        boolean failedOver = Await.until(() -> victim.stats.retries.get() > 0, Duration.ofSeconds(30));
        gen.stop("the killed backend's requests failed over");
        List<RequestRecord> records = run.get().records();
        int n = records.size();
        assertTrue(n < cap, "the load was still running when the kill's requests failed over");
        for (RequestRecord r : records) {
            if (!r.ok())
                assertTrue(
                        r.firstTokenNs() >= 0 || r.status() == 200,
                        "request " + r.requestId() + " failed before receiving a byte: " + r.error());
        }
        assertTrue(failedOver, "requests sent to the killed backend after the kill failed over");
        long served = lb.backends().stream()
                .mapToLong(b -> b.stats.requests.get() - b.stats.retries.get())
                .sum();
        assertEquals(n, served, "every client request was relayed from exactly one backend");
        assertTrue(records.stream().filter(RequestRecord::ok).count() >= 3 * n / 4);
    }

    @Test
    void aBackendMidUpdateGetsNoNewRequestsUntilItRecovers() throws Exception {
        List<ServerGroup> slow = servers(1, TestModels.small(), "tok");
        List<ServerGroup> fast = servers(1, TestModels.tiny(), null);
        List<ServerGroup> both = List.of(slow.get(0), fast.get(0));
        LoadBalancer lb = lb(both, Policy.parse("round-robin"));
        OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
        OpenAiClient admin = new OpenAiClient(HTTP, slow.get(0).urls().get(0), null, true);
        String slowLabel = lb.backends().get(0).label();
        // several reloads back to back keep the update window open long enough to observe on a busy machine
        var reload = CompletableFuture.supplyAsync(() -> {
            OpenAiClient.Exchange last = null;
            for (int i = 0; i < 6; i++) {
                last = admin.post(
                        "/admin/reload_weights",
                        Map.of("model_path", TestModels.small().toString()),
                        Map.of("X-Admin-Token", "tok"));
                if (last.status() != 200) return last;
            }
            return last;
        });
        boolean sawUpdating = false;
        int n = 0;
        while (!reload.isDone()) {
            var x = ping(c);
            assertEquals(200, x.status(), "the LB hides the update window: " + x.body());
            n++;
            Backend b = lb.backends().get(0);
            if (b.health.updating) {
                sawUpdating = true;
                var y = ping(c);
                assertEquals(200, y.status());
                if (b.health.updating)
                    assertNotEquals(
                            slowLabel,
                            y.headers().get("X-OpenAI-LB-Backend"),
                            "no new requests to a backend mid-update");
            }
        }
        assertEquals(200, reload.get().status());
        assertTrue(sawUpdating, "the LB never saw the 503 window (" + n + " requests)");
        // after recovery the backend takes requests again
        assertTrue(
                Await.until(() -> !lb.backends().get(0).health.updating, Duration.ofSeconds(10)),
                "a probe saw it serve again");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 4; i++) seen.add(ping(c).headers().get("X-OpenAI-LB-Backend"));
        assertTrue(seen.contains(slowLabel), seen.toString());
    }

    @Test
    void leastLoadSendsFewerRequestsToASlowBackendThanRoundRobin() throws Exception {
        List<ServerGroup> gs = new ArrayList<>(servers(1, TestModels.small(), null));
        gs.addAll(servers(1, TestModels.tiny(), null));
        int rr = countToFirst(gs, Policy.parse("round-robin"));
        int ll = countToFirst(gs, Policy.parse("least-load"));
        assertTrue(ll < rr, "least-load sent " + ll + " to the slow backend, round-robin " + rr);
    }

    private int countToFirst(List<ServerGroup> gs, Policy p) throws Exception {
        LoadBalancer lb = lb(gs, p);
        OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
        Workload w = Workload.synthetic(
                60,
                LengthDist.fixed(16),
                new Workload.Sampling(CompletionRequest.Endpoint.COMPLETIONS, null, 16, null, 1.0, 1L, 1, false, true),
                1000,
                2);
        var run = new LoadGenerator(
                        List.of(Target.http(c)),
                        w,
                        LoadGenerator.Options.closed(Topology.LB, Connection.KEEP_ALIVE, 8, 60))
                .run();
        assertEquals(60, run.summary().completed());
        String slow = lb.backends().get(0).label();
        return (int)
                run.records().stream().filter(r -> r.backend().equals(slow)).count();
    }

    @Test
    void theBackendSetFollowsTheRegistry() throws Exception {
        List<ServerGroup> gs = servers(2, TestModels.tiny(), null);
        String a = "127.0.0.1:" + gs.get(0).ports().get(0),
                b = "127.0.0.1:" + gs.get(1).ports().get(0);
        try (RegistryServer reg =
                new RegistryServer("127.0.0.1", 0, "m", List.of(a), Duration.ofSeconds(30), "regtok")) {
            LoadBalancer lb = new LoadBalancer(LbOptions.builder()
                    .registry(reg.url(), null)
                    .backendTimeout(Duration.ofSeconds(20))
                    .healthInterval(Duration.ofMillis(200))
                    .build());
            open.keep(lb);
            OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
            assertEquals(List.of(a), lb.backends().stream().map(Backend::label).toList());
            new OpenAiClient(HTTP, reg.url(), "regtok", true)
                    .post("/register", Map.of("backends", List.of(b)), Map.of());
            Await.until(() -> lb.backends().size() == 2, Duration.ofSeconds(8));
            assertEquals(
                    List.of(a, b), lb.backends().stream().map(Backend::label).toList(), "a registered backend joins");
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < 4; i++) seen.add(ping(c).headers().get("X-OpenAI-LB-Backend"));
            assertEquals(Set.of(a, b), seen);
            new OpenAiClient(HTTP, reg.url(), "regtok", true)
                    .post("/deregister", Map.of("backends", List.of(a)), Map.of());
            Await.until(() -> lb.backends().size() == 1, Duration.ofSeconds(8));
            assertEquals(List.of(b), lb.backends().stream().map(Backend::label).toList(), "a removed backend leaves");
            for (int i = 0; i < 3; i++) assertEquals(b, ping(c).headers().get("X-OpenAI-LB-Backend"));
        }
    }

    @Test
    void aClientThatDisconnectsMidStreamCancelsTheBackendRequest() throws Exception {
        // the small model needs several seconds for 1000 tokens, so only a cancellation can end it within 3 s
        List<ServerGroup> gs = servers(1, TestModels.small(), null);
        LoadBalancer lb = lb(gs, Policy.parse("round-robin"));
        var engine = gs.get(0).engines().get(0);
        Request req = new Request.Builder()
                .url(lb.url() + "/v1/completions")
                .post(RequestBody.create(
                        "{\"prompt\":\"go\",\"max_tokens\":1000,\"ignore_eos\":true,\"stream\":true}",
                        OpenAiClient.JSON))
                .build();
        Call call = HTTP.newCall(req);
        try (Response resp = call.execute()) {
            assertEquals(200, resp.code());
            assertNotNull(resp.body().source().readUtf8Line(), "the stream started");
            // the engine publishes its load at the end of a step, so the first token can arrive before the count does
            assertTrue(
                    Await.until(() -> engine.load().runningSequences() == 1, Duration.ofSeconds(5)),
                    "the backend is generating");
            call.cancel(); // the client goes away mid-stream
        } catch (IOException expected) {
            // closing a cancelled stream may throw; the point is what the backend does next
        }
        assertTrue(
                Await.until(() -> engine.load().runningSequences() == 0, Duration.ofSeconds(3)),
                "the backend dropped the abandoned generation");
    }

    @Test
    void aBackendThatHangsAfterHeadersIsCutAtTheBackendTimeout() throws Exception {
        try (var hang = new HangAfterHeadersFixture()) {
            LoadBalancer lb = new LoadBalancer(LbOptions.builder()
                    .backends(List.of(hang.url()))
                    .backendTimeout(Duration.ofSeconds(1))
                    .build());
            open.keep(lb);
            OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
            long t0 = System.nanoTime();
            OpenAiClient.Result r = c.complete(
                    CompletionRequest.completion(null, new int[] {5, 6}, 8, 0).withStream(true, true));
            double sec = (System.nanoTime() - t0) / 1e9;
            assertFalse(r.ok(), "a stream that never finished is not a success");
            assertEquals(1, r.chunkNs().length, "the event sent before the hang was relayed");
            assertTrue(
                    sec < 10,
                    "cut after about the 1 s backend timeout, not the backend's 60 s hang (took " + sec + " s)");
        }
    }

    @Test
    void adminEndpointsReportStateDrainAndMetrics() {
        List<ServerGroup> gs = servers(2, TestModels.tiny(), null);
        LoadBalancer lb = lb(gs, Policy.parse("round-robin"));
        OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
        assertEquals(401, c.get("/admin/backends").status(), "with an admin token set, the backend list needs it");
        assertEquals(401, c.get("/metrics").status(), "so do the metrics, unless --public-metrics");
        JsonNode st =
                c.getWith("/admin/backends", Map.of("X-Admin-Token", "lbtok")).json();
        assertTrue(st.path("ok").asBoolean());
        assertEquals(2, st.path("backends").size());
        assertEquals("closed", st.path("state").get(0).path("breaker").asText());
        String first = st.path("backends").get(0).asText();
        assertEquals(
                401, c.post("/admin/drain", Map.of("backend", first), Map.of()).status());
        assertEquals(
                200,
                c.post("/admin/drain", Map.of("backend", first), Map.of("X-Admin-Token", "lbtok"))
                        .status());
        for (int i = 0; i < 6; i++)
            assertNotEquals(
                    first, ping(c).headers().get("X-OpenAI-LB-Backend"), "drained backends get no new requests");
        assertEquals(
                200,
                c.post("/admin/undrain", Map.of("backend", first), Map.of("X-Admin-Token", "lbtok"))
                        .status());
        assertEquals(200, c.get("/health").status());
        String metrics =
                c.getWith("/metrics", Map.of("Authorization", "Bearer lbtok")).body();
        assertTrue(metrics.contains("lb_requests_total{backend=\"" + first + "\"}"), metrics);
        assertTrue(metrics.contains("lb_request_duration_seconds_bucket{backend="), metrics);
        // a malformed request is the backend's to judge
        var bad = c.postBytes("/v1/chat/completions", "{oops".getBytes(), "application/json", Map.of());
        assertEquals(400, bad.status());
        assertTrue(bad.json().path("error").path("message").asText().startsWith("Invalid JSON"));
    }
}
