package dev.rolloutlab.server;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

class ServerSecurityAndUpdateWindowTest {
    static final OkHttpClient HTTP = OpenAiClient.http(8, Duration.ofSeconds(60));

    @Test
    void apiKeyGuardsEverythingButHealth() {
        try (ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                .engines(ServerGroup.Engines.SHARED)
                .servedModelName("tiny")
                .apiKey("sk-test")
                .idleTimeout(Duration.ofSeconds(30))
                .build())) {
            String url = g.urls().get(0);
            OpenAiClient anon = new OpenAiClient(HTTP, url, null, true),
                    keyed = new OpenAiClient(HTTP, url, "sk-test", true),
                    wrong = new OpenAiClient(HTTP, url, "sk-wrong", true);
            assertEquals(200, anon.get("/health").status());
            assertEquals(401, anon.get("/v1/models").status());
            assertEquals(401, wrong.get("/v1/models").status());
            assertEquals(
                    "invalid_api_key",
                    anon.get("/v1/models").json().path("error").path("code").asText());
            assertEquals(200, keyed.get("/v1/models").status());
            assertEquals(
                    401,
                    anon.complete(CompletionRequest.chat("tiny", "x", 1, 0)).status());
            assertEquals(
                    200,
                    keyed.complete(CompletionRequest.chat("tiny", "x", 1, 0)).status());
            assertEquals(
                    404,
                    keyed.get("/admin/weights_checksum").status(),
                    "admin paths do not exist without --enable-weight-reload");
        }
    }

    @Test
    void weightReloadWithoutAnAdminTokenIsRefused() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> new OpenAiServer.Options(
                        "127.0.0.1",
                        0,
                        0,
                        "m",
                        null,
                        null,
                        true,
                        Duration.ofSeconds(1),
                        Limits.DEFAULT,
                        Duration.ZERO,
                        null,
                        null,
                        false,
                        dev.rolloutlab.util.SpanLog.OFF));
        assertTrue(e.getMessage().contains("--admin-token"));
        Processes.Run r = Processes.run(
                60,
                "serve",
                "--model",
                TestModels.tiny().toString(),
                "--base-port",
                "0",
                "--enable-weight-reload",
                "--validate");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--admin-token"), r.err());
    }

    @Test
    void aClientPollingDuringASlowReloadSees503WithRetryAfterThenRecovers() throws Exception {
        // reloading the small model from disk (98 MB of F32) takes long enough to observe the window
        try (ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(TestModels.small())
                .engines(ServerGroup.Engines.SHARED)
                .servedModelName("small")
                .weightAdmin("tok")
                .idleTimeout(Duration.ofSeconds(30))
                .build())) {
            OpenAiClient c = new OpenAiClient(HTTP, g.urls().get(0), null, true);
            AtomicInteger unavailable = new AtomicInteger(), ok = new AtomicInteger();
            String[] retryAfter = {null};
            var reload = CompletableFuture.supplyAsync(() -> c.post(
                    "/admin/reload_weights",
                    Map.of("model_path", TestModels.small().toString()),
                    Map.of("X-Admin-Token", "tok")));
            while (!reload.isDone()) {
                var x = c.get("/v1/models");
                if (x.status() == 503) {
                    unavailable.incrementAndGet();
                    retryAfter[0] = x.headers().get("Retry-After");
                    assertEquals(
                            "weights_updating",
                            x.json().path("error").path("code").asText());
                } else if (x.status() == 200) ok.incrementAndGet();
                assertEquals(200, c.get("/health").status(), "/health stays open during an update");
            }
            assertEquals(200, reload.get().status(), reload.get().body());
            assertTrue(unavailable.get() > 0, "saw no 503 while reloading (" + ok.get() + " x 200)");
            assertEquals("1", retryAfter[0]);
            assertEquals(200, c.get("/v1/models").status(), "serving again after the update");
            assertEquals(
                    200, c.complete(CompletionRequest.chat("small", "x", 2, 0)).status());
        }
    }

    @Test
    void validatePrintsTheSeedsLinesAndExitsZero() {
        Processes.Run r = Processes.run(
                120,
                "serve",
                "--model",
                TestModels.tiny().toString(),
                "--num-servers",
                "3",
                "--base-port",
                "0",
                "--validate");
        assertEquals(0, r.exit(), r.err());
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.matches("READY: servers=3 ports=\\[\\d+, \\d+, \\d+]")), r.out());
        assertEquals(
                3,
                lines.stream()
                        .filter(l -> l.matches("RESP: port=\\d+ status=200 sec=\\d+\\.\\d{3}"))
                        .count(),
                r.out());
        assertTrue(
                lines.stream()
                        .anyMatch(l -> l.matches("DONE: servers=3 wall_sec=\\d+\\.\\d{3} max_req_sec=\\d+\\.\\d{3}")),
                r.out());
    }

    @Test
    void aPortInUseIsReportedAndNothingIsLeftListening() throws Exception {
        try (var blocker = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int taken = blocker.getLocalPort();
            var e = assertThrows(
                    IllegalStateException.class,
                    () -> ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                            .ports(List.of(0, taken))
                            .servedModelName("tiny")
                            .idleTimeout(Duration.ofSeconds(5))
                            .build()));
            assertTrue(e.getMessage().contains(String.valueOf(taken)), e.getMessage());
        }
    }
}
