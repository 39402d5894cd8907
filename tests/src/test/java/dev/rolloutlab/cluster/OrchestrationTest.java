package dev.rolloutlab.cluster;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.testing.ListeningSockets;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.HostPort;
import dev.rolloutlab.util.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The seed's orchestration scenario, agent security, and cleanup after a failed start. */
@Tag("fast") // the edit loop: tests/run --fast
class OrchestrationTest {
    static final String TOKEN = "agent-token-0123456789";
    static final OkHttpClient HTTP = OpenAiClient.http(16, Duration.ofSeconds(30));

    static Commander.Options options(List<String> agents, String kind, String model) {
        return new Commander.Options(
                kind,
                model,
                4,
                0,
                "127.0.0.1",
                "auto",
                128,
                128,
                128,
                false,
                "python",
                agents,
                Duration.ofSeconds(10),
                "127.0.0.1",
                0,
                "127.0.0.1",
                TestModels.tempDir("cmd"),
                TOKEN,
                0,
                null,
                null);
    }

    @Test
    void commanderStartsRemoteMockBackendsAndPublishesTheRegistry() {
        try (Agent agent = new Agent("127.0.0.1", 0, TestModels.tempDir("agent"), Agent.Config.loopback(TOKEN));
                Commander c = new Commander(options(List.of(agent.url()), "mock-openai", "mock-model"))) {
            c.start();
            assertNotNull(c.registryUrl());
            JsonNode b = new OpenAiClient(HTTP, c.registryUrl(), null, true)
                    .get("/backends")
                    .json();
            assertTrue(b.path("ok").asBoolean());
            assertEquals("mock-model", b.path("model").asText());
            assertEquals(8, b.path("backends").size());
            for (JsonNode backend : b.path("backends")) {
                OpenAiClient.Result r = new OpenAiClient(HTTP, HostPort.url(backend.asText()), null, true)
                        .complete(CompletionRequest.chat("mock-model", "你是谁", 8, 0));
                assertEquals(200, r.status(), r.error());
                assertTrue(r.text().contains("你是谁"), r.text());
            }
            c.stop();
            JsonNode st = new OpenAiClient(HTTP, agent.url(), TOKEN, true)
                    .get("/admin/status")
                    .json();
            assertFalse(st.path("running").asBoolean(), "stop() told the agent to stop its service");
        }
    }

    @Test
    void agentRefusesMissingTokensUnknownKindsAndCommandStrings() throws Exception {
        Path wd = TestModels.tempDir("agent-sec");
        Path pwned = wd.resolve("pwned");
        try (Agent agent = new Agent("127.0.0.1", 0, wd, Agent.Config.loopback(TOKEN))) {
            OpenAiClient anon = new OpenAiClient(HTTP, agent.url(), null, true),
                    auth = new OpenAiClient(HTTP, agent.url(), TOKEN, true),
                    wrong = new OpenAiClient(HTTP, agent.url(), "not-the-token", true);
            assertEquals(200, anon.get("/health").status());
            assertEquals(401, anon.get("/admin/status").status());
            assertEquals(
                    401,
                    wrong.post("/admin/start", Map.of("kind", "mock-openai"), Map.of())
                            .status());
            var unknown = auth.post("/admin/start", Map.of("kind", "bash"), Map.of());
            assertEquals(400, unknown.status());
            assertEquals(
                    "unsupported kind: 'bash'", unknown.json().path("error").asText());
            var cmd = auth.post(
                    "/admin/start", Map.of("kind", "rollout-lab-serve", "command", "touch " + pwned), Map.of());
            assertEquals(400, cmd.status());
            assertTrue(cmd.json().path("error").asText().contains("never carry a command"));
            var inject = auth.post(
                    "/admin/start",
                    Map.of("kind", "rollout-lab-serve", "model", "x; touch " + pwned, "base_port", 31999),
                    Map.of());
            assertEquals(400, inject.status(), inject.body());
            var extraParam = auth.post(
                    "/admin/start", Map.of("kind", "rollout-lab-serve", "java", "/bin/sh", "extra", "-c"), Map.of());
            assertEquals(400, extraParam.status(), extraParam.body());
            // every refusal was answered before any process could start: nothing is running, nothing was written
            assertFalse(Files.exists(pwned), "nothing ran");
            assertFalse(auth.get("/admin/status").json().path("running").asBoolean());
        }
    }

    @Test
    void agentRunsARealServeTemplateAndStopsItsProcessGroup() throws Exception {
        int base = Ports.free(1).get(0);
        try (Agent agent = new Agent("127.0.0.1", 0, TestModels.tempDir("agent-serve"), Agent.Config.loopback(TOKEN))) {
            OpenAiClient auth = new OpenAiClient(HTTP, agent.url(), TOKEN, true);
            var r = auth.post(
                    "/admin/start",
                    Map.of(
                            "kind",
                            "rollout-lab-serve",
                            "model",
                            TestModels.tiny().toString(),
                            "num_servers",
                            1,
                            "base_port",
                            base),
                    Map.of());
            assertEquals(200, r.status(), r.body());
            long pid = r.json().path("pid").asLong();
            OpenAiClient server = new OpenAiClient(HTTP, "http://127.0.0.1:" + base, null, true);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            assertTrue(
                    Await.until(() -> server.get("/v1/models").status() == 200, Duration.ofSeconds(60)),
                    "the server came up");
            assertEquals(List.of("127.0.0.1"), ListeningSockets.addresses(base), "bound to loopback only");
            JsonNode st = auth.get("/admin/status").json();
            assertTrue(st.path("running").asBoolean());
            assertTrue(st.path("log_paths").get(0).asText().endsWith("agent_rollout-lab-serve.log"));
            assertEquals(200, auth.post("/admin/stop", Map.of(), Map.of()).status());
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "the server process is gone");
            assertEquals(-1, server.get("/v1/models").status());
        }
    }

    @Test
    void aFailedStartStopsWhatWasAlreadyStarted() throws Exception {
        int dead = Ports.free(1).get(0);
        try (Agent agent = new Agent("127.0.0.1", 0, TestModels.tempDir("agent-fail"), Agent.Config.loopback(TOKEN))) {
            Commander c = new Commander(
                    options(List.of(agent.url(), "http://127.0.0.1:" + dead), "mock-openai", "mock-model"));
            var e = assertThrows(IllegalStateException.class, c::start);
            assertTrue(e.getMessage().contains("remote start failed for http://127.0.0.1:" + dead), e.getMessage());
            JsonNode st = new OpenAiClient(HTTP, agent.url(), TOKEN, true)
                    .get("/admin/status")
                    .json();
            assertFalse(
                    st.path("running").asBoolean(), "the first agent's servers were stopped after the second failed");
            assertNull(c.registryUrl());
        }
    }

    @Test
    void anAgentHeartbeatsItsBackendsIntoTheRegistry() throws Exception {
        try (RegistryServer reg =
                        new RegistryServer("127.0.0.1", 0, "mock-model", List.of(), Duration.ofSeconds(30), TOKEN);
                Agent agent = new Agent("127.0.0.1", 0, TestModels.tempDir("agent-hb"), Agent.Config.loopback(TOKEN))) {
            agent.registerWith(reg.url(), "127.0.0.1", Duration.ofMillis(900));
            OpenAiClient auth = new OpenAiClient(HTTP, agent.url(), TOKEN, true);
            JsonNode started = auth.post("/admin/start", Map.of("kind", "mock-openai", "num_servers", 2), Map.of())
                    .json();
            List<String> expected = new ArrayList<>();
            started.path("ports").forEach(p -> expected.add("127.0.0.1:" + p.asInt()));
            assertTrue(
                    Await.until(() -> reg.backendList().equals(expected), Duration.ofSeconds(5)),
                    "the agent registered its running backends");
            auth.post("/admin/stop", Map.of(), Map.of());
            assertTrue(
                    Await.until(() -> reg.backendList().isEmpty(), Duration.ofSeconds(5)),
                    "no heartbeats after the service stopped: the entries expired");
        }
    }

    @Test
    void registrationNeedsTheTokenAndExpiresWithoutHeartbeats() throws Exception {
        try (RegistryServer reg =
                new RegistryServer("127.0.0.1", 0, "m", List.of("10.0.0.1:1"), Duration.ofSeconds(30), TOKEN)) {
            OpenAiClient anon = new OpenAiClient(HTTP, reg.url(), null, true),
                    auth = new OpenAiClient(HTTP, reg.url(), TOKEN, true);
            assertEquals(
                    401,
                    anon.post("/register", Map.of("backends", List.of("10.0.0.2:2")), Map.of())
                            .status());
            assertEquals(
                    200,
                    auth.post("/register", Map.of("backends", List.of("10.0.0.2:2"), "ttl_sec", 0.5), Map.of())
                            .status());
            assertEquals(List.of("10.0.0.1:1", "10.0.0.2:2"), reg.backendList());
            assertTrue(
                    Await.until(() -> reg.backendList().equals(List.of("10.0.0.1:1")), Duration.ofSeconds(5)),
                    "an agent that stops heartbeating drops out");
            assertEquals(404, anon.get("/nope").status());
        }
    }
}
