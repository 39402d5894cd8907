package dev.rolloutlab.lb;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import okhttp3.Call;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /abort_request} (SGLang's shape): serve ends the request at its next step, frees its slot and answers it
 * with the tokens generated so far, {@code finish_reason: "abort"}; the balancer forwards the abort to the backend that
 * holds the request. Without the forwarding, a least-load balancer relays the abort to the idle backend and nothing is
 * aborted, so this test fails.
 */
class AbortTest {
    private static final OkHttpClient HTTP = OpenAiClient.http(8, Duration.ofSeconds(120));
    private static final int LONG = 900;

    @Test
    void anAbortThroughTheBalancerFreesTheSlotOnTheBackendThatHoldsTheRequest() throws Exception {
        try (ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(TestModels.small())
                        .ports(List.of(0, 0))
                        .servedModelName("small")
                        .weightAdmin("admin-tok")
                        .build());
                LoadBalancer lb = new LoadBalancer(LbOptions.builder()
                        .backends(g.urls())
                        .policy(Policy.parse("least-load"))
                        .build())) {
            OpenAiClient viaLb = new OpenAiClient(HTTP, lb.url(), null, true);
            CompletableFuture<OpenAiClient.Exchange> pending =
                    CompletableFuture.supplyAsync(() -> viaLb.post("/v1/completions", request("rid-lb-1"), Map.of()));
            String holder = awaitRunning(g.urls());
            JsonNode a = viaLb.post("/abort_request", Map.of("rid", "rid-lb-1"), Map.of())
                    .json();
            assertEquals(1, a.path("aborted").asInt(), a.toString());
            assertEquals(2, a.path("backends").asInt(), "the abort went to every backend: " + a);
            assertAborted(pending.get());
            assertTrue(Await.until(() -> running(holder) == 0, Duration.ofSeconds(5)), "the holder freed the slot");
            assertEquals(
                    0,
                    viaLb.post("/abort_request", Map.of("rid", "rid-lb-1"), Map.of())
                            .json()
                            .path("aborted")
                            .asInt(),
                    "an ended request is not aborted twice");
        }
    }

    @Test
    void aClientThatHangsUpOnTheBalancerFreesTheSlotOnTheBackend() throws Exception {
        try (ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(TestModels.small())
                        .servedModelName("small")
                        .build());
                LoadBalancer lb =
                        new LoadBalancer(LbOptions.builder().backends(g.urls()).build())) {
            // 4 samples of 1,000 tokens: many seconds of work, unless the hang-up reaches the backend
            Call call = HTTP.newCall(new Request.Builder()
                    .url(lb.url() + "/v1/completions")
                    .post(RequestBody.create(
                            "{\"prompt\":[5,6,7,8],\"max_tokens\":1000,\"n\":4,\"ignore_eos\":true}",
                            MediaType.get("application/json")))
                    .build());
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try (Response r = call.execute()) {
                    r.body().string();
                } catch (IOException cancelled) {
                    // expected: the call is cancelled below
                }
            });
            String backend = awaitRunning(g.urls());
            long t0 = System.nanoTime();
            call.cancel();
            sent.get();
            assertTrue(
                    Await.until(() -> running(backend) == 0, Duration.ofSeconds(3)),
                    "the backend dropped the generation within 3 s of the hang-up, not at its end");
            System.err.printf("hang-up to free slot through the lb: %.0f ms%n", (System.nanoTime() - t0) / 1e6);
            assertTrue(
                    Await.until(
                            () -> new OpenAiClient(HTTP, lb.url(), null, true)
                                    .get("/metrics")
                                    .body()
                                    .contains("lb_client_gone_total 1"),
                            Duration.ofSeconds(5)),
                    "the lb counted the hang-up");
        }
    }

    @Test
    void serveAbortsByRidRefusesDuplicatesAndKeepsAbortAllForTheAdmin() throws Exception {
        try (ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(TestModels.small())
                .servedModelName("small")
                .weightAdmin("admin-tok")
                .build())) {
            OpenAiClient c = new OpenAiClient(HTTP, g.urls().get(0), null, true);
            CompletableFuture<OpenAiClient.Exchange> pending =
                    CompletableFuture.supplyAsync(() -> c.post("/v1/completions", request("rid-1"), Map.of()));
            awaitRunning(g.urls());
            var dup = c.post("/v1/completions", request("rid-1"), Map.of());
            assertEquals(400, dup.status(), dup.body());
            assertTrue(dup.body().contains("already in flight"), dup.body());
            assertEquals(1, running(g.urls().get(0)), "the refused duplicate never took a slot");
            assertEquals(
                    401,
                    c.post("/abort_request", Map.of("abort_all", true), Map.of())
                            .status(),
                    "abort_all needs the admin token");
            assertEquals(
                    400,
                    c.post("/abort_request", Map.of("rid", "bad rid!"), Map.of())
                            .status());
            JsonNode all = c.post("/abort_request", Map.of("abort_all", true), Map.of("X-Admin-Token", "admin-tok"))
                    .json();
            assertEquals(1, all.path("aborted").asInt(), all.toString());
            assertAborted(pending.get());
            assertTrue(Await.until(() -> running(g.urls().get(0)) == 0, Duration.ofSeconds(5)));
        }
    }

    private static Map<String, Object> request(String rid) {
        return Map.of(
                "prompt", List.of(5, 6, 7, 8), "max_tokens", LONG, "ignore_eos", true, "temperature", 0, "rid", rid);
    }

    private static void assertAborted(OpenAiClient.Exchange x) {
        assertEquals(200, x.status(), x.body());
        JsonNode r = x.json();
        assertEquals("abort", r.path("choices").get(0).path("finish_reason").asText(), r.toString());
        int tokens = r.path("usage").path("completion_tokens").asInt();
        assertTrue(tokens < LONG, "stopped early with what it had: " + tokens + " tokens");
    }

    /** Waits for the event (a backend running the request), returns that backend. */
    private static String awaitRunning(List<String> urls) {
        String[] holder = {null};
        assertTrue(
                Await.until(
                        () -> {
                            for (String u : urls) {
                                if (running(u) > 0) {
                                    holder[0] = u;
                                    return true;
                                }
                            }
                            return false;
                        },
                        Duration.ofSeconds(30)),
                "no backend started the request");
        return holder[0];
    }

    private static int running(String url) {
        return new OpenAiClient(HTTP, url, null, true)
                .get("/get_load")
                .json()
                .path("num_running_reqs")
                .asInt();
    }
}
