package dev.rolloutlab.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("fast") // the edit loop: tests/run --fast
class ServerTest {
    static final String ADMIN = "admin-secret";
    static ServerGroup group;
    static OkHttpClient http = OpenAiClient.http(64, Duration.ofSeconds(60));
    static List<OpenAiClient> clients;

    @BeforeAll
    static void start() {
        group = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                .ports(List.of(0, 0))
                .servedModelName("tiny")
                .weightAdmin(ADMIN)
                .idleTimeout(Duration.ofSeconds(30))
                .build());
        clients = group.urls().stream()
                .map(u -> new OpenAiClient(http, u, null, true))
                .toList();
    }

    @AfterAll
    static void stop() {
        group.close();
    }

    static CompletionRequest chat(String text, int max) {
        return CompletionRequest.chat("tiny", text, max, 1.0).withSampling(1, 5L, true);
    }

    @Test
    void chatAndCompletionsOnEveryPort_streamingMatchesNonStreaming() {
        int promptLen = group.engines().get(0).tokenizer().encode("Once upon a time").length;
        for (OpenAiClient c : clients) {
            OpenAiClient.Result whole = c.complete(chat("hello there", 20));
            assertTrue(whole.ok(), whole.error());
            assertEquals(20, whole.completionTokens());
            OpenAiClient.Result streamed = c.complete(chat("hello there", 20).withStream(true, true));
            assertTrue(streamed.ok(), streamed.error());
            assertEquals(whole.text(), streamed.text(), "SSE chunks concatenate to the non-streaming text");
            assertEquals(20, streamed.completionTokens());
            assertEquals(20, streamed.chunkNs().length, "one chunk per token");
            assertTrue(streamed.firstTokenNs() > streamed.sentNs() && streamed.firstTokenNs() <= streamed.endNs());

            CompletionRequest text = CompletionRequest.builder(CompletionRequest.Endpoint.COMPLETIONS)
                    .model("tiny")
                    .prompt("Once upon a time")
                    .maxTokens(12)
                    .temperature(0.0)
                    .ignoreEos(true)
                    .returnTokenIds(true)
                    .build();
            OpenAiClient.Result t = c.complete(text);
            assertTrue(t.ok(), t.error());
            assertEquals(promptLen, t.promptTokens());
            assertEquals(12, t.completionTokens());
            assertEquals(12, t.tokenIds().length);
            OpenAiClient.Result ts = c.complete(text.withStream(true, true));
            assertEquals(t.text(), ts.text());
            assertEquals(promptLen, ts.promptTokens());
        }
    }

    @Test
    void everyCompletionCarriesBackendAndVersionHeaders() {
        for (int i = 0; i < clients.size(); i++) {
            var x = clients.get(i).post("/v1/chat/completions", chat("hi", 2).toJson(), Map.of());
            assertEquals(200, x.status(), x.body());
            assertEquals(String.valueOf(i), x.headers().get("X-Backend-Id"));
            assertNotNull(x.headers().get("X-Weights-Version"));
            JsonNode n = x.json();
            assertEquals("chat.completion", n.path("object").asText());
            assertEquals(
                    "assistant",
                    n.path("choices").get(0).path("message").path("role").asText());
            assertEquals(
                    n.path("usage").path("prompt_tokens").asInt() + 2,
                    n.path("usage").path("total_tokens").asInt());
        }
    }

    @Test
    void fiftyConcurrentRequestsAcrossPortsAndNSamples() throws Exception {
        List<CompletableFuture<OpenAiClient.Result>> fs = new ArrayList<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 50; i++) {
                OpenAiClient c = clients.get(i % clients.size());
                int k = i;
                fs.add(CompletableFuture.supplyAsync(
                        () -> c.complete(chat("request " + k, 8).withStream(k % 2 == 0, true)), pool));
            }
            Set<String> backends = new HashSet<>();
            for (var f : fs) {
                var r = f.get();
                assertTrue(r.ok(), r.error());
                assertEquals(8, r.completionTokens());
                backends.add(r.backend());
            }
            assertEquals(Set.of("0", "1"), backends);
        }
        var x = clients.get(0)
                .post(
                        "/v1/chat/completions",
                        chat("group", 6).withSampling(4, 9L, true).toJson(),
                        Map.of());
        JsonNode choices = x.json().path("choices");
        assertEquals(4, choices.size());
        for (int i = 0; i < 4; i++) assertEquals(i, choices.get(i).path("index").asInt());
        assertEquals(24, x.json().path("usage").path("completion_tokens").asInt());
    }

    @Test
    void logprobsAreReturnedForChatAndCompletions() {
        var body = chat("hi", 3).toJson();
        body.put("logprobs", true);
        body.put("top_logprobs", 2);
        JsonNode content = clients.get(0)
                .post("/v1/chat/completions", body, Map.of())
                .json()
                .path("choices")
                .get(0)
                .path("logprobs")
                .path("content");
        assertEquals(3, content.size());
        assertTrue(content.get(0).path("logprob").asDouble() <= 0);
        assertEquals(2, content.get(0).path("top_logprobs").size());
        var text = Json.MAPPER
                .createObjectNode()
                .put("prompt", "abc")
                .put("max_tokens", 4)
                .put("logprobs", 1)
                .put("ignore_eos", true);
        JsonNode lp = clients.get(1)
                .post("/v1/completions", text, Map.of())
                .json()
                .path("choices")
                .get(0)
                .path("logprobs");
        assertEquals(4, lp.path("tokens").size());
        assertEquals(4, lp.path("token_logprobs").size());
    }

    @Test
    void badRequestsGetOpenAiErrorsNamingTheFieldAndTheServerKeepsServing() {
        OpenAiClient c = clients.get(0);
        var bad = c.postBytes("/v1/chat/completions", "{not json".getBytes(), "application/json", Map.of());
        assertEquals(400, bad.status());
        assertTrue(bad.json().path("error").path("message").asText().startsWith("Invalid JSON"), bad.body());

        var wrongType = c.post(
                "/v1/chat/completions",
                Map.of("messages", List.of(Map.of("role", "user", "content", "x")), "max_tokens", "ten"),
                Map.of());
        assertEquals(400, wrongType.status());
        assertEquals("max_tokens", wrongType.json().path("error").path("param").asText());
        assertEquals(
                "invalid_request_error",
                wrongType.json().path("error").path("type").asText());

        var unknownModel = c.post(
                "/v1/chat/completions",
                Map.of("model", "gpt-9", "messages", List.of(Map.of("role", "user", "content", "x"))),
                Map.of());
        assertEquals(404, unknownModel.status());
        assertEquals(
                "model_not_found",
                unknownModel.json().path("error").path("code").asText());

        var tooLong = c.post("/v1/completions", Map.of("prompt", "x", "max_tokens", 100000), Map.of());
        assertEquals(400, tooLong.status());
        assertEquals("max_tokens", tooLong.json().path("error").path("param").asText());
        assertTrue(tooLong.json().path("error").path("message").asText().contains("maximum context length"));

        var noMessages = c.post("/v1/chat/completions", Map.of("messages", List.of()), Map.of());
        assertEquals(400, noMessages.status());
        assertEquals("messages", noMessages.json().path("error").path("param").asText());

        assertEquals(200, c.complete(chat("still alive", 2)).status());
    }

    @Test
    void adminNeedsTheTokenAndPerturbChangesChecksumAndVersion() {
        OpenAiClient c = clients.get(1);
        assertEquals(401, c.get("/admin/weights_checksum").status());
        assertEquals(
                401,
                c.getWith("/admin/weights_checksum", Map.of("X-Admin-Token", "wrong"))
                        .status());
        Map<String, String> h = Map.of("X-Admin-Token", ADMIN);
        JsonNode before = c.getWith("/admin/weights_checksum", h).json();
        long v0 = before.path("version").asLong();
        assertEquals(
                String.valueOf(v0),
                c.post("/v1/chat/completions", chat("x", 1).toJson(), Map.of())
                        .headers()
                        .get("X-Weights-Version"));

        Map<String, Object> p = new LinkedHashMap<>();
        p.put("seed", 0);
        p.put("scale", 0.01);
        p.put("num_leaves", 4);
        JsonNode r = c.post("/admin/perturb_weights", p, h).json();
        assertTrue(r.path("ok").asBoolean(), r.toString());
        assertEquals(4, r.path("num_leaves").asInt());
        assertNotEquals(
                r.path("checksum_before").asDouble(), r.path("checksum_after").asDouble());
        JsonNode after = c.getWith("/admin/weights_checksum", h).json();
        assertEquals(r.path("checksum_after").asDouble(), after.path("checksum").asDouble());
        assertEquals(v0 + 1, after.path("version").asLong());
        assertEquals(
                String.valueOf(v0 + 1),
                c.post("/v1/chat/completions", chat("x", 1).toJson(), Map.of())
                        .headers()
                        .get("X-Weights-Version"));

        // reload from the folder restores the original checksum (as a new version)
        JsonNode rl = c.post(
                        "/admin/reload_weights",
                        Map.of("model_path", TestModels.tiny().toString()),
                        h)
                .json();
        assertTrue(rl.path("ok").asBoolean(), rl.toString());
        JsonNode restored = c.getWith("/admin/weights_checksum", h).json();
        assertEquals(
                before.path("checksum").asDouble(), restored.path("checksum").asDouble());
        assertEquals(v0 + 2, restored.path("version").asLong());
        JsonNode st = c.getWith("/admin/reload_status", h).json();
        assertFalse(st.path("reloading").asBoolean());
        assertEquals(
                TestModels.tiny().toString(),
                st.path("last_ok").path("model_path").asText());
    }

    @Test
    void updateOverHttpInstallsPartialWeightsAndARejectedUpdateChangesNothing() {
        OpenAiClient c = clients.get(0);
        Map<String, String> h = Map.of("X-Admin-Token", ADMIN);
        JsonNode before = c.getWith("/admin/weights_checksum", h).json();
        Map<String, Tensor> all = Checkpoint.readTensors(TestModels.tiny());
        Tensor emb = all.get("model.embed_tokens.weight");
        float[] d = emb.data().clone();
        d[0] += 1.0f;
        byte[] good = Safetensors.toBytes(Map.of(emb.name(), new Tensor(emb.name(), emb.shape(), d)), DType.F32);
        JsonNode ok = c.postBytes("/admin/update_weights", good, "application/octet-stream", h)
                .json();
        assertTrue(ok.path("ok").asBoolean(), ok.toString());
        assertEquals(1, ok.path("num_tensors").asInt());
        long v1 = ok.path("version").asLong();
        assertEquals(before.path("version").asLong() + 1, v1);
        assertEquals(
                before.path("checksum").asDouble() + 1.0, ok.path("checksum").asDouble(), 1e-3);

        Tensor bad = new Tensor(
                emb.name(),
                new int[] {emb.shape()[0] - 1, emb.shape()[1]},
                new float[(emb.shape()[0] - 1) * emb.shape()[1]]);
        var rejected = c.postBytes(
                "/admin/update_weights",
                Safetensors.toBytes(Map.of(bad.name(), bad), DType.F32),
                "application/octet-stream",
                h);
        assertEquals(400, rejected.status());
        assertTrue(rejected.body().contains("model.embed_tokens.weight"), rejected.body());
        var garbage = c.postBytes("/admin/update_weights", "hello".getBytes(), "application/octet-stream", h);
        assertEquals(400, garbage.status());
        JsonNode after = c.getWith("/admin/weights_checksum", h).json();
        assertEquals(v1, after.path("version").asLong(), "rejected updates keep the version");
        assertEquals(ok.path("checksum").asDouble(), after.path("checksum").asDouble());
        assertEquals(200, c.complete(chat("after", 2)).status());
    }
}
