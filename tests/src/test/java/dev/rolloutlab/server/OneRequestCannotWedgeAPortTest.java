package dev.rolloutlab.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.SamplingParams;
import dev.rolloutlab.engine.TokenListener;
import dev.rolloutlab.lb.LbOptions;
import dev.rolloutlab.lb.LoadBalancer;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The second probe's findings against serve: single requests that used to hang a port's engine, burn its CPU for a
 * minute, grow its heap without bound or slow every other user, each refused with a 400 naming the field, and the same
 * port answering a normal request within a second after; and a /health that says 503 once the engine stalls.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class OneRequestCannotWedgeAPortTest {
    static final OkHttpClient HTTP = OpenAiClient.http(8, Duration.ofSeconds(30));
    /** One second of stall before /health says so: short for the test, well above a tiny model's longest step (ms). */
    static final Duration STALL = Duration.ofSeconds(1);

    static ServerGroup group;
    static OpenAiClient c;

    @BeforeAll
    static void start() {
        group = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                .ports(List.of(0, 0))
                .servedModelName("tiny")
                .weightAdmin("tok")
                .limits(Limits.of(5 << 20, 64L << 20, Duration.ofSeconds(20)).withEngineStall(STALL))
                .build());
        c = new OpenAiClient(HTTP, group.urls().get(0), null, true);
    }

    @AfterAll
    static void stop() {
        group.close();
    }

    static OpenAiClient.Exchange complete(Map<String, Object> fields) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("prompt", "hi");
        b.put("max_tokens", 2);
        b.putAll(fields);
        return c.post("/v1/completions", b, Map.of());
    }

    /** The port still serves: a normal completion and /health, each within a second (the findings' bar). */
    static void portServesWithinASecond() {
        long t0 = System.nanoTime();
        var ok = complete(Map.of("temperature", 0));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(200, ok.status(), ok.body());
        assertTrue(ms < 1000, "a normal request took " + ms + " ms after the hostile one");
        assertEquals(200, c.get("/health").status());
    }

    static void assertRefused(OpenAiClient.Exchange x, String param) {
        assertEquals(400, x.status(), x.body());
        assertEquals(param, x.json().path("error").path("param").asText(), x.body());
    }

    @Test
    void aTemperatureWhoseInverseOverflowsIsRefusedAndThePortKeepsServing() {
        assertRefused(complete(Map.of("temperature", 1e-300, "top_p", 0.5)), "temperature");
        assertRefused(complete(Map.of("temperature", 1e-300)), "temperature");
        assertRefused(complete(Map.of("temperature", 0.009)), "temperature");
        assertRefused(complete(Map.of("top_k", -2)), "top_k");
        assertEquals(
                200,
                complete(Map.of("temperature", SamplingParams.MIN_TEMPERATURE, "top_p", 0.5))
                        .status(),
                "the stated minimum is served");
        portServesWithinASecond();
    }

    @Test
    void aHugeOneWordPromptIsRefusedBeforeTokenisingAndThePortKeepsServing() {
        long t0 = System.nanoTime();
        for (int i = 0; i < 2; i++) { // once to each port, as the probe did
            var x = new OpenAiClient(HTTP, group.urls().get(i), null, true)
                    .post("/v1/completions", Map.of("prompt", "the".repeat(20_000), "max_tokens", 2), Map.of());
            assertRefused(x, "prompt");
            assertTrue(x.json().path("error").path("message").asText().contains("maximum context length"), x.body());
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 2000, "two refusals took " + ms + " ms (the quadratic tokenizer spent 70 s on them)");
        portServesWithinASecond();
    }

    @Test
    void refusedPromptsLeaveNothingInTheTokenizerCache() {
        var tokenizer = group.engines().get(0).tokenizer();
        int before = tokenizer.cachedWords();
        StringBuilder words = new StringBuilder(4 << 20);
        for (int i = 0; words.length() < (4 << 20) - 64; i++) words.append(" w").append(Integer.toString(i, 36));
        for (int i = 0; i < 10; i++) assertRefused(complete(Map.of("prompt", i + words.toString())), "prompt");
        assertEquals(
                before, tokenizer.cachedWords(), "four-megabyte prompts refused for their length must not be cached");
        // a prompt that fits is cached, word by word
        assertEquals(
                200, complete(Map.of("prompt", "zq1 zq2 zq3", "temperature", 0)).status());
        assertTrue(tokenizer.cachedWords() > before);
        portServesWithinASecond();
    }

    @Test
    void stopListsAreCappedAndAnotherUsersRequestIsNotSlowed() {
        List<String> stops = new ArrayList<>(Collections.nCopies(100_000, "zz"));
        assertRefused(complete(Map.of("stop", stops, "n", 64)), "stop");
        assertRefused(complete(Map.of("stop", List.of("x".repeat(SamplingParams.MAX_STOP_CHARS + 1)))), "stop");
        assertRefused(
                complete(Map.of("stop_token_ids", Collections.nCopies(SamplingParams.MAX_STOP_TOKEN_IDS + 1, 3))),
                "stop_token_ids");
        assertRefused(complete(Map.of("stop_token_ids", List.of(Integer.MAX_VALUE))), "stop_token_ids");
        var atCap = complete(
                Map.of("stop", Collections.nCopies(SamplingParams.MAX_STOP_STRINGS, "zz"), "n", 8, "max_tokens", 16));
        assertEquals(200, atCap.status(), atCap.body());
        portServesWithinASecond();
    }

    @Test
    void anEngineThatStopsSteppingMakesHealthSay503AndTheBalancerTakesItOut() throws Exception {
        InProcessEngine engine = group.engines().get(1);
        OpenAiClient port1 = new OpenAiClient(HTTP, group.urls().get(1), null, true);
        try (LoadBalancer lb = new LoadBalancer(LbOptions.builder()
                .backends(List.of(group.urls().get(1).substring(7)))
                .healthInterval(Duration.ofMillis(200))
                .build())) {
            OpenAiClient viaLb = new OpenAiClient(HTTP, lb.url(), null, true);
            assertTrue(Await.until(() -> lb.backends().get(0).isUp(), Duration.ofSeconds(10)));
            // a listener that blocks holds the engine's only thread inside a step: the wedge the probe caused, without
            // its bug
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<?> stuck = engine.submit(
                    new GenerationRequest(new int[] {5, 6, 7}, 1, SamplingParams.greedy(4)), new TokenListener() {
                        @Override
                        public void onToken(int sample, int tokenId, float logprob, long version, String text) {
                            try {
                                release.await();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                    });
            try {
                assertTrue(
                        Await.until(() -> port1.get("/health").status() == 503, Duration.ofSeconds(15)),
                        "health must stop saying 200");
                JsonNode why = port1.get("/health").json();
                assertEquals("engine_stalled", why.path("error").path("code").asText(), why.toString());
                assertTrue(
                        Await.until(() -> !lb.backends().get(0).isUp(), Duration.ofSeconds(10)),
                        "the balancer must see it down");
                assertEquals(502, viaLb.get("/v1/models").status(), "no backend left to route to");
            } finally {
                release.countDown();
            }
            stuck.get(10, TimeUnit.SECONDS);
            assertTrue(
                    Await.until(() -> port1.get("/health").status() == 200, Duration.ofSeconds(10)),
                    "steps again: healthy again");
            assertTrue(Await.until(() -> lb.backends().get(0).isUp(), Duration.ofSeconds(10)));
        }
    }

    @Test
    void weightAdminErrorsNameTheFieldAndNeverAFilesBytesOrTheWorkingDirectory() throws Exception {
        Map<String, String> admin = Map.of("X-Admin-Token", "tok");
        Path dir = TestModels.tempDir("symlinked");
        Files.createSymbolicLink(dir.resolve("model.safetensors"), Path.of("/etc/passwd"));
        var x = c.post("/admin/reload_weights", Map.of("model_path", dir.toString()), admin);
        assertEquals(400, x.status(), x.body());
        String passwdHead = Files.readString(Path.of("/etc/passwd")).substring(0, 4);
        assertFalse(x.body().contains(passwdHead), x.body());
        assertFalse(
                x.body().replace(dir.toString(), "").matches("(?s).*\\d{12,}.*"),
                "the first 8 bytes read as a number: " + x.body());
        var rel = c.post("/admin/reload_weights", Map.of("model_path", "no-such-folder"), admin);
        assertEquals(400, rel.status(), rel.body());
        assertFalse(rel.body().contains(System.getProperty("user.dir")), "the working directory leaked: " + rel.body());
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"zero\"}}";
        byte[] hb = header.getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[8 + hb.length + 4];
        java.nio.ByteBuffer.wrap(body)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putLong(hb.length)
                .put(hb);
        var bad = c.postBytes("/admin/update_weights", body, "application/octet-stream", admin);
        assertEquals(400, bad.status(), bad.body());
        assertTrue(bad.body().contains("data_offsets"), bad.body());
        assertFalse(bad.body().contains("NullPointer") || bad.body().contains("java."), bad.body());
    }

    @Test
    void aFloodOfIdleSocketsOnOnePortLeavesItsNeighbourServing() throws Exception {
        List<Socket> flood = new ArrayList<>();
        try {
            for (int i = 0; i < 200; i++)
                flood.add(new Socket("127.0.0.1", group.ports().get(0)));
            OpenAiClient other = new OpenAiClient(HTTP, group.urls().get(1), null, true);
            long t0 = System.nanoTime();
            assertEquals(200, other.get("/health").status());
            assertTrue((System.nanoTime() - t0) / 1_000_000 < 1000, "the other port's health slowed by the flood");
        } finally {
            for (Socket s : flood) s.close();
        }
        portServesWithinASecond();
    }
}
