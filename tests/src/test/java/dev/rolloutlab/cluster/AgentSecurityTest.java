package dev.rolloutlab.cluster;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.lb.LbOptions;
import dev.rolloutlab.lb.LoadBalancer;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.testing.ListeningSockets;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The agent as the probe attacked it: requests that choose executables, bind addresses or sizes. */
@Tag("fast") // the edit loop: tests/run --fast
class AgentSecurityTest {
    static final OkHttpClient HTTP = OpenAiClient.http(16, Duration.ofSeconds(30));
    static final String TOKEN = "agent-token-0123456789";

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    @Test
    void aRequestNeverChoosesTheExecutableTheClasspathOrAFreeArgument() throws Exception {
        Path wd = TestModels.tempDir("agent-exec");
        int port = Ports.free();
        try (Agent agent = new Agent("127.0.0.1", 0, wd, Agent.Config.loopback(TOKEN))) {
            OpenAiClient auth = new OpenAiClient(HTTP, agent.url(), TOKEN, true);
            List<Map<String, Object>> attacks = List.of(
                    map(
                            "kind",
                            "vllm",
                            "model",
                            "m",
                            "python",
                            "/usr/bin/echo",
                            "base_port",
                            port), // the probe's reproduction
                    map("kind", "rollout-lab-serve", "java", "/bin/sh", "base_port", port),
                    map("kind", "rollout-lab-serve", "classpath", "/tmp/evil.jar", "base_port", port),
                    map("kind", "rollout-lab-serve", "host", "0.0.0.0", "base_port", port),
                    map("kind", "rollout-lab-serve", "api_key", "", "base_port", port),
                    map(
                            "kind",
                            "sglang-jax-multi-openai",
                            "model",
                            "m",
                            "enable_weight_reload",
                            "--python=/bin/sh",
                            "base_port",
                            port),
                    map("kind", "rollout-lab-serve", "num_servers", "4; touch /tmp/x", "base_port", port),
                    map("kind", "rollout-lab-serve", "model", "--help", "base_port", port),
                    map("kind", "rollout-lab-serve", "unknown_field", 1, "base_port", port),
                    map("kind", "rollout-lab-serve", "base_port", 80),
                    map("kind", "rollout-lab-serve", "shape", "99984x999x9999999", "base_port", port),
                    map("kind", "rollout-lab-serve", "shape", "8192x128x262144", "base_port", port),
                    map("kind", "mock-openai", "host", "0.0.0.0"),
                    map("kind", "mock-openai", "api_key", "x"),
                    map("kind", "mock-openai", "python", "/usr/bin/echo"));
            for (Map<String, Object> a : attacks) {
                var x = auth.post("/admin/start", a, Map.of());
                assertEquals(400, x.status(), a + " -> " + x.body());
                assertFalse(auth.get("/admin/status").json().path("running").asBoolean(), "nothing runs after " + a);
            }
            String why = auth.post("/admin/start", attacks.get(0), Map.of())
                    .json()
                    .path("error")
                    .asText();
            assertTrue(why.contains("'python'") && why.contains("operator"), why);
            try (var files = Files.list(wd)) {
                assertEquals(0, files.count(), "no process was started, so no log was written");
            }
        }
    }

    @Test
    void tooManyMockServersIsRefusedBeforeAnythingStarts() {
        try (Agent agent = new Agent("127.0.0.1", 0, TestModels.tempDir("agent-many"), Agent.Config.loopback(TOKEN))) {
            OpenAiClient auth = new OpenAiClient(HTTP, agent.url(), TOKEN, true);
            long t0 = System.nanoTime();
            var x = auth.post("/admin/start", map("kind", "mock-openai", "num_servers", 100000), Map.of());
            double sec = (System.nanoTime() - t0) / 1e9;
            assertEquals(400, x.status(), x.body());
            assertTrue(
                    x.json()
                            .path("error")
                            .asText()
                            .contains("num_servers must be an integer in [0, " + Agent.MAX_MOCK_SERVERS + "]"),
                    x.body());
            // a refusal takes milliseconds, starting 100,000 servers minutes: 2 s separates them on a busy machine
            // (margin)
            assertTrue(sec < 2, "refused at once, not after starting servers (" + sec + " s)");
            assertFalse(auth.get("/admin/status").json().path("running").asBoolean());
        }
    }

    @Test
    void startedServersBindLoopbackUnlessTheOperatorSaysOtherwise() {
        try (Agent agent = new Agent("127.0.0.1", 0, TestModels.tempDir("agent-bind"), Agent.Config.loopback(TOKEN))) {
            OpenAiClient auth = new OpenAiClient(HTTP, agent.url(), TOKEN, true);
            JsonNode r = auth.post("/admin/start", map("kind", "mock-openai", "num_servers", 2), Map.of())
                    .json();
            assertTrue(r.path("ok").asBoolean(), r.toString());
            for (JsonNode p : r.path("ports"))
                assertEquals(List.of("127.0.0.1"), ListeningSockets.addresses(p.asInt()), "port " + p);
        }
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> new Agent.Config(TOKEN, "0.0.0.0", null, LaunchTemplate.builtIns()));
        assertTrue(e.getMessage().contains("--server-api-key-file"), e.getMessage());
        Processes.Run cli = Processes.run(
                60, "agent", "--port", "0", "--token-file", tokenFile().toString(), "--server-host", "0.0.0.0");
        assertEquals(2, cli.exit(), cli.err());
        assertTrue(cli.err().contains("--server-api-key-file"), cli.err());
    }

    @Test
    void serversExposedBeyondLoopbackRequireTheOperatorsKeyWhichOnlyTokenHoldersLearn() throws Exception {
        String key = "server-key-abcdef";
        Agent.Config exposed = new Agent.Config(TOKEN, "0.0.0.0", key, LaunchTemplate.builtIns());
        try (RegistryServer reg =
                        new RegistryServer("127.0.0.1", 0, "mock-model", List.of(), Duration.ofSeconds(30), TOKEN);
                Agent agent = new Agent("127.0.0.1", 0, TestModels.tempDir("agent-exposed"), exposed)) {
            // a 300 s TTL heartbeats every 100 s: only the registration a start triggers can meet the 10 s wait below
            agent.registerWith(reg.url(), "127.0.0.1", Duration.ofSeconds(300));
            OpenAiClient auth = new OpenAiClient(HTTP, agent.url(), TOKEN, true);
            JsonNode r = auth.post(
                            "/admin/start",
                            map("kind", "mock-openai", "num_servers", 2, "model_id", "mock-model"),
                            Map.of())
                    .json();
            List<String> backends = new ArrayList<>();
            for (JsonNode p : r.path("ports")) {
                assertEquals(List.of("0.0.0.0"), ListeningSockets.addresses(p.asInt()), "the operator chose 0.0.0.0");
                backends.add("127.0.0.1:" + p.asInt());
                String url = "http://127.0.0.1:" + p.asInt();
                assertEquals(
                        401,
                        new OpenAiClient(HTTP, url, null, true)
                                .get("/v1/models")
                                .status(),
                        "no key, no answer");
                assertEquals(
                        200,
                        new OpenAiClient(HTTP, url, key, true).get("/v1/models").status());
            }
            assertTrue(
                    Await.until(() -> reg.backendList().equals(backends), Duration.ofSeconds(10)),
                    reg.backendList().toString());
            assertFalse(new OpenAiClient(HTTP, reg.url(), null, true)
                    .get("/backends")
                    .json()
                    .has("api_keys"));
            JsonNode keys = new OpenAiClient(HTTP, reg.url(), TOKEN, true)
                    .get("/backends")
                    .json()
                    .path("api_keys");
            for (String b : backends) assertEquals(key, keys.path(b).asText(), keys.toString());
            // an lb holding the registry token authenticates to those backends itself
            try (LoadBalancer lb = new LoadBalancer(
                    LbOptions.builder().registry(reg.url(), TOKEN).build())) {
                var x = new OpenAiClient(HTTP, lb.url(), null, true)
                        .post(
                                "/v1/chat/completions",
                                Map.of(
                                        "model",
                                        "mock-model",
                                        "messages",
                                        List.of(Map.of("role", "user", "content", "hi"))),
                                Map.of());
                assertEquals(200, x.status(), x.body());
            }
        }
    }

    static Path tokenFile() {
        try {
            Path f = TestModels.tempDir("agent-tok").resolve("token");
            Files.writeString(f, TOKEN);
            return f;
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
