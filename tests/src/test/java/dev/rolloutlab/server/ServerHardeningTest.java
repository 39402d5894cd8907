package dev.rolloutlab.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * serve as the probe abused it: huge bodies, NaN weights, wrapped integers, NUL paths, FIFOs, abandoned requests,
 * non-JSON errors.
 */
@Tag("fast") // the edit loop: tests/run --fast
class ServerHardeningTest {
    static final OkHttpClient HTTP = OpenAiClient.http(8, Duration.ofSeconds(60));
    static final Map<String, String> ADMIN = Map.of("X-Admin-Token", "tok");
    static ServerGroup group;
    static OpenAiClient c;

    @BeforeAll
    static void start() {
        group = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                .engines(ServerGroup.Engines.SHARED)
                .servedModelName("tiny")
                .weightAdmin("tok")
                .idleTimeout(Duration.ofSeconds(30))
                .limits(Limits.of(64 << 10, 64L << 20, Duration.ofSeconds(20)))
                .build());
        c = new OpenAiClient(HTTP, group.urls().get(0), null, true);
    }

    @AfterAll
    static void stop() {
        group.close();
    }

    static long version() {
        return c.getWith("/admin/weights_checksum", ADMIN)
                .json()
                .path("version")
                .asLong();
    }

    static OpenAiClient.Exchange chat(Object maxTokens) {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("messages", List.of(Map.of("role", "user", "content", "hi")));
        b.put("max_tokens", maxTokens);
        b.put("logprobs", true);
        return c.post("/v1/chat/completions", b, Map.of());
    }

    @Test
    void bodiesPastTheCapGet413WhetherDeclaredOrChunked() throws Exception {
        byte[] big =
                ("{\"prompt\":\"" + "a".repeat(100 << 10) + "\",\"max_tokens\":1}").getBytes(StandardCharsets.UTF_8);
        var declared = c.postBytes("/v1/completions", big, "application/json", Map.of());
        assertEquals(413, declared.status(), declared.body());
        assertEquals(
                "request_too_large", declared.json().path("error").path("type").asText(), declared.body());
        try (Socket s = new Socket("127.0.0.1", group.ports().get(0))) {
            OutputStream out = s.getOutputStream();
            out.write(
                    "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
            for (int off = 0; off < big.length; off += 8192) {
                int n = Math.min(8192, big.length - off);
                out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(big, off, n);
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            s.setSoTimeout(10_000);
            String head = new String(s.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1);
            assertEquals("HTTP/1.1 413", head);
        } catch (SocketException resetAfterAnswer) {
            // the server may close while we still write; the declared case above already showed the 413
        }
        assertEquals(200, chat(2).status(), "a normal request still works");
    }

    @Test
    void integersOutOfRangeAreRefusedNotWrapped() {
        var wrapped = chat(4294967299L);
        assertEquals(400, wrapped.status(), wrapped.body());
        assertEquals("max_tokens", wrapped.json().path("error").path("param").asText());
        var huge = chat(2147483647L);
        assertEquals(400, huge.status(), huge.body());
        var n = c.post("/v1/completions", Map.of("prompt", "x", "n", 4294967297L), Map.of());
        assertEquals(400, n.status());
        assertEquals("n", n.json().path("error").path("param").asText());
    }

    @Test
    void nonFiniteWeightsAreRefusedOnReloadUpdateAndPerturb() throws Exception {
        long v0 = version();
        Path nan = TestModels.tempDir("nan-model");
        for (String f : List.of("config.json", "tokenizer.json", "generation_config.json"))
            Files.copy(TestModels.tiny().resolve(f), nan.resolve(f));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (var e : Checkpoint.readTensors(TestModels.tiny()).entrySet()) {
            float[] d = new float[e.getValue().data().length];
            Arrays.fill(d, Float.NaN);
            tensors.put(e.getKey(), new Tensor(e.getKey(), e.getValue().shape(), d));
        }
        Safetensors.write(nan.resolve("model.safetensors"), tensors, DType.F32);
        var reload = c.post("/admin/reload_weights", Map.of("model_path", nan.toString()), ADMIN);
        assertEquals(400, reload.status(), reload.body());
        assertTrue(reload.json().path("error").asText().contains("non-finite"), reload.body());
        var update = c.postBytes(
                "/admin/update_weights",
                Safetensors.toBytes(Map.of("model.norm.weight", tensors.get("model.norm.weight")), DType.F32),
                "application/octet-stream",
                ADMIN);
        assertEquals(400, update.status(), update.body());
        var perturb = c.post("/admin/perturb_weights", Map.of("scale", 1e39, "num_leaves", 1), ADMIN);
        assertEquals(400, perturb.status(), perturb.body());
        assertEquals(v0, version(), "nothing was installed");
        JsonNode lp = chat(3).json()
                .path("choices")
                .get(0)
                .path("logprobs")
                .path("content")
                .get(0);
        assertTrue(Double.isFinite(lp.path("logprob").asDouble()), lp.toString());
    }

    @Test
    void badModelPathsAnswer400AndAFifoNeverBlocksThePort() throws Exception {
        var nul = c.post("/admin/reload_weights", Map.of("model_path", "/tmp/a\u0000b"), ADMIN);
        assertEquals(400, nul.status(), nul.body());
        Path fifoModel = TestModels.tempDir("fifo-model");
        for (String f : List.of("config.json", "tokenizer.json"))
            Files.copy(TestModels.tiny().resolve(f), fifoModel.resolve(f));
        Process mk = new ProcessBuilder(
                        "mkfifo", fifoModel.resolve("model.safetensors").toString())
                .start();
        assertEquals(0, mk.waitFor());
        long t0 = System.nanoTime();
        var fifo = c.post("/admin/reload_weights", Map.of("model_path", fifoModel.toString()), ADMIN);
        double sec = (System.nanoTime() - t0) / 1e9;
        assertEquals(400, fifo.status(), fifo.body());
        assertTrue(fifo.json().path("error").asText().contains("not a regular file"), fifo.body());
        // a refusal takes milliseconds; a read of the FIFO would block forever: 5 s separates them on any machine
        // (margin)
        assertTrue(sec < 5, "refused at once (" + sec + " s)");
        assertEquals(200, chat(2).status(), "the port serves right after");
    }

    @Test
    void aReloadPastItsDeadlineIsAbandonedAndTheOldWeightsKeepServing() throws Exception {
        // reading the small model's 98 MB takes far longer than 1 ms: the deadline is certain to pass
        try (ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(TestModels.small())
                .engines(ServerGroup.Engines.SHARED)
                .servedModelName("small")
                .weightAdmin("tok")
                .idleTimeout(Duration.ofSeconds(30))
                .limits(Limits.DEFAULT.withReloadTimeout(Duration.ofMillis(1)))
                .build())) {
            OpenAiClient s = new OpenAiClient(HTTP, g.urls().get(0), null, true);
            var r = s.post(
                    "/admin/reload_weights",
                    Map.of("model_path", TestModels.small().toString()),
                    ADMIN);
            assertEquals(504, r.status(), r.body());
            assertTrue(r.json().path("error").asText().contains("did not finish within"), r.body());
            assertEquals(200, s.get("/v1/models").status(), "no 503 window left open");
            JsonNode st = s.getWith("/admin/reload_status", ADMIN).json();
            assertFalse(st.path("reloading").asBoolean(), st.toString());
            assertEquals(0, st.path("weights_version").asLong(), "the old weights serve");
        }
    }

    @Test
    void aNonStreamedRequestWhoseClientLeftIsCancelled() throws Exception {
        try (ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(TestModels.small())
                .engines(ServerGroup.Engines.SHARED)
                .servedModelName("small")
                .idleTimeout(Duration.ofSeconds(30))
                .build())) {
            var engine = g.engines().get(0);
            byte[] body = "{\"prompt\":\"go\",\"max_tokens\":1000,\"n\":8,\"ignore_eos\":true}"
                    .getBytes(StandardCharsets.UTF_8);
            try (Socket s = new Socket("127.0.0.1", g.ports().get(0))) {
                s.getOutputStream()
                        .write(
                                ("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                                                + body.length + "\r\n\r\n")
                                        .getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().write(body);
                assertTrue(
                        Await.until(() -> engine.load().runningSequences() == 8, Duration.ofSeconds(10)), "generating");
            } // the client leaves
            assertTrue(
                    Await.until(() -> engine.load().runningSequences() == 0, Duration.ofSeconds(3)),
                    "the abandoned generation was cancelled, not run to 1000 tokens (running "
                            + engine.load().runningSequences() + ")");
            // and keep-alive still works for the next client on a reused connection
            OpenAiClient k = new OpenAiClient(HTTP, g.urls().get(0), null, true);
            for (int i = 0; i < 3; i++)
                assertEquals(
                        200,
                        k.post("/v1/completions", Map.of("prompt", "x", "max_tokens", 1), Map.of())
                                .status());
        }
    }

    @Test
    void malformedBodiesAllGetA4xxInJsonNeverA5xx() {
        List<String> bodies = List.of(
                "",
                "{",
                "[]",
                "null",
                "42",
                "\"text\"",
                "{\"messages\":null}",
                "{\"messages\":[]}",
                "{\"messages\":\"hi\"}",
                "{\"messages\":[1]}",
                "{\"messages\":[{}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":{}}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\"}]}]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":-1}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1.5}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":\"hot\"}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":9}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_p\":0}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":0}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":1e400}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"seed\":\"s\"}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[1]}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":\"yes\"}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"top_logprobs\":99}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"model\":\"other\"}");
        for (String b : bodies) {
            var x = c.postBytes(
                    "/v1/chat/completions", b.getBytes(StandardCharsets.UTF_8), "application/json", Map.of());
            assertTrue(x.status() >= 400 && x.status() < 500, b + " -> " + x.status() + " " + x.body());
            assertFalse(x.json().path("error").path("message").asText().isEmpty(), b + " -> " + x.body());
        }
        for (String p : List.of(
                "{\"prompt\":[-1]}",
                "{\"prompt\":[99999999]}",
                "{\"prompt\":{}}",
                "{\"prompt\":\"\"}",
                "{\"prompt\":\"x\",\"logprobs\":21}")) {
            var x = c.postBytes("/v1/completions", p.getBytes(StandardCharsets.UTF_8), "application/json", Map.of());
            assertTrue(x.status() >= 400 && x.status() < 500, p + " -> " + x.status() + " " + x.body());
        }
    }

    @Test
    void everyErrorIsOpenAiJson() throws IOException {
        var method = c.get("/v1/chat/completions");
        assertEquals(405, method.status());
        assertTrue(method.json().path("error").path("message").asText().contains("not allowed"), method.body());
        var path = c.post("/nope", Map.of(), Map.of());
        assertEquals(404, path.status());
        assertEquals("not_found_error", path.json().path("error").path("type").asText(), path.body());
        try (Socket s = new Socket("127.0.0.1", group.ports().get(0))) {
            s.getOutputStream().write("THIS IS NOT HTTP\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            s.setSoTimeout(5000);
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
            assertTrue(answer.contains("application/json") && answer.contains("{\"error\":{\"message\""), answer);
            assertFalse(answer.contains("<html"), answer);
        }
    }
}
