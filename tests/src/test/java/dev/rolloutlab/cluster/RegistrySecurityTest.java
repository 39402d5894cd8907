package dev.rolloutlab.cluster;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.lb.Backend;
import dev.rolloutlab.lb.LbOptions;
import dev.rolloutlab.lb.LoadBalancer;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.testing.CountingListener;
import dev.rolloutlab.testing.Logs;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import io.javalin.Javalin;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Registry poisoning, as the probe found it: writes without a token, bad entries, unbounded TTLs, keys shown to anyone.
 */
@Tag("fast") // the edit loop: tests/run --fast
class RegistrySecurityTest {
    static final OkHttpClient HTTP = OpenAiClient.http(16, Duration.ofSeconds(30));
    static final String TOKEN = "registry-token-0123456789";

    @Test
    void theProbesReproductionNoLongerReachesTheAttacker() throws Exception {
        // commander without any token (the normal local case), an attacker's port, an lb following the registry
        Commander.Options o = new Commander.Options(
                "mock-openai",
                "mock-model",
                2,
                0,
                "127.0.0.1",
                "auto",
                128,
                128,
                128,
                false,
                "python",
                List.of(),
                Duration.ofSeconds(10),
                "127.0.0.1",
                0,
                "127.0.0.1",
                TestModels.tempDir("cmd-open"),
                null,
                0,
                null,
                null);
        try (Commander c = new Commander(o);
                CountingListener evil = new CountingListener()) {
            c.start();
            OpenAiClient anon = new OpenAiClient(HTTP, c.registryUrl(), null, true);
            var write =
                    anon.post("/register", Map.of("backends", List.of(evil.hostPort()), "ttl_sec", 100000), Map.of());
            assertEquals(403, write.status(), write.body());
            assertTrue(write.json().path("error").asText().contains("registry writes are disabled"), write.body());
            assertEquals(
                    403,
                    anon.post("/deregister", Map.of("backends", c.registry().backendList()), Map.of())
                            .status());
            assertEquals(2, c.registry().backendList().size(), "nothing changed");
            try (LoadBalancer lb = new LoadBalancer(LbOptions.builder()
                    .registry(c.registryUrl(), null)
                    .apiKey("client-secret-key")
                    .build())) {
                OpenAiClient client = new OpenAiClient(HTTP, lb.url(), "client-secret-key", true);
                for (int i = 0; i < 6; i++) {
                    var x = client.post(
                            "/v1/chat/completions",
                            Map.of(
                                    "model",
                                    "mock-model",
                                    "messages",
                                    List.of(Map.of("role", "user", "content", "secret prompt"))),
                            Map.of());
                    assertEquals(200, x.status(), x.body());
                }
            }
            assertEquals(0, evil.accepted(), "the attacker received no connection, no key, no prompt");
        }
    }

    @Test
    void writesNeedTheTokenAndEveryEntryIsChecked() {
        try (RegistryServer reg =
                new RegistryServer("127.0.0.1", 0, "m", List.of("127.0.0.1:1000"), Duration.ofSeconds(30), TOKEN)) {
            OpenAiClient anon = new OpenAiClient(HTTP, reg.url(), null, true),
                    wrong = new OpenAiClient(HTTP, reg.url(), "nope", true),
                    auth = new OpenAiClient(HTTP, reg.url(), TOKEN, true);
            assertEquals(
                    401,
                    anon.post("/register", Map.of("backends", List.of("127.0.0.1:2000")), Map.of())
                            .status());
            assertEquals(
                    401,
                    wrong.post("/register", Map.of("backends", List.of("127.0.0.1:2000")), Map.of())
                            .status());
            for (Object bad : List.of(
                    "not a host",
                    "127.0.0.1:70000",
                    "127.0.0.1:0",
                    "host-without-port",
                    "127.0.0.1:abc",
                    42,
                    "x:1; rm -rf /")) {
                var x = auth.post("/register", Map.of("backends", List.of("127.0.0.1:2001", bad)), Map.of());
                assertEquals(400, x.status(), bad + " -> " + x.body());
                assertTrue(x.json().path("error").asText().startsWith("backends[1]"), x.body());
            }
            assertEquals(List.of("127.0.0.1:1000"), reg.backendList(), "a write with one bad entry changes nothing");
            var ttl =
                    auth.post("/register", Map.of("backends", List.of("127.0.0.1:2000"), "ttl_sec", 100000), Map.of());
            assertEquals(400, ttl.status());
            assertTrue(ttl.json().path("error").asText().contains("ttl_sec"), ttl.body());
            assertEquals(
                    400,
                    auth.post("/register", Map.of("backends", List.of("127.0.0.1:2000"), "ttl_sec", -1), Map.of())
                            .status());
            assertEquals(
                    200,
                    auth.post(
                                    "/register",
                                    Map.of("backends", List.of("127.0.0.1:2000"), "ttl_sec", 60, "api_key", "k-123"),
                                    Map.of())
                            .status());
            assertEquals(List.of("127.0.0.1:1000", "127.0.0.1:2000"), reg.backendList());
            JsonNode open = anon.get("/backends").json(),
                    withToken = auth.get("/backends").json();
            assertFalse(open.has("api_keys"), "keys are never shown without the token: " + open);
            assertEquals(
                    "k-123", withToken.path("api_keys").path("127.0.0.1:2000").asText(), withToken.toString());
            var big = auth.postBytes("/register", new byte[400 << 10], "application/json", Map.of());
            assertEquals(413, big.status(), big.body());
            var method = anon.get("/register");
            assertEquals(405, method.status());
            assertTrue(method.json().path("error").asText().contains("not allowed"), method.body());
        }
    }

    @Test
    void entriesAreCappedAndAFullRegistryStillListsInLinearTime() {
        try (RegistryServer reg = new RegistryServer("127.0.0.1", 0, "m", List.of(), Duration.ofSeconds(30), TOKEN)) {
            OpenAiClient auth = new OpenAiClient(HTTP, reg.url(), TOKEN, true);
            int written = 0;
            for (int port = 1024; written < RegistryServer.MAX_ENTRIES_PER_WRITER; port += 1024) {
                List<String> batch = new ArrayList<>();
                for (int i = 0; i < 1024; i++) batch.add("127.0.0." + (1 + port / 1024) + ":" + (1024 + i));
                var x = auth.post("/register", Map.of("backends", batch, "ttl_sec", 60), Map.of());
                assertEquals(200, x.status(), x.body());
                written += batch.size();
            }
            var full = auth.post("/register", Map.of("backends", List.of("127.0.1.1:2000")), Map.of());
            assertEquals(429, full.status(), full.body());
            assertTrue(full.json().path("error").asText().contains("at most"), full.body());
            assertEquals(
                    RegistryServer.MAX_ENTRIES_PER_WRITER, reg.backendList().size());
            assertEquals(
                    200,
                    auth.post("/register", Map.of("backends", List.of("127.0.0.2:1024")), Map.of())
                            .status(),
                    "re-registering a known entry (a heartbeat) is not a new one");
            // listing was quadratic (61k entries took 15 s); 4,096 entries, listed 20 times, take milliseconds now
            long t0 = System.nanoTime();
            for (int i = 0; i < 20; i++) assertEquals(200, auth.get("/backends").status());
            double sec = (System.nanoTime() - t0) / 1e9;
            assertTrue(
                    sec < 5,
                    "20 listings of a full registry took " + sec + " s, the balancer's fetch timeout is 5 s each");
        }
    }

    @Test
    void aRegistrationExpiresWithoutHeartbeats() {
        try (RegistryServer reg = new RegistryServer("127.0.0.1", 0, "m", List.of(), Duration.ofSeconds(30), TOKEN)) {
            OpenAiClient auth = new OpenAiClient(HTTP, reg.url(), TOKEN, true);
            assertEquals(
                    200,
                    auth.post("/register", Map.of("backends", List.of("127.0.0.1:2000"), "ttl_sec", 0.3), Map.of())
                            .status());
            assertEquals(List.of("127.0.0.1:2000"), reg.backendList());
            assertTrue(
                    Await.until(() -> reg.backendList().isEmpty(), Duration.ofSeconds(5)),
                    "an agent that stops heartbeating drops out");
        }
    }

    /**
     * Named fixture: a seed-style registry that lists whatever it is told, as a registry written elsewhere might. Ours
     * refuses bad entries, so only a foreign registry can show the lb one.
     */
    @Test
    void theLbSkipsABadEntryAndSaysWhy() throws Exception {
        try (var ok = new EchoOpenAiServer("127.0.0.1", 0, 7, "m", null)) {
            String good = "127.0.0.1:" + ok.port();
            Javalin foreign = Javalin.create(cfg -> cfg.routes.get(
                            "/backends",
                            ctx -> ctx.json(Map.of("ok", true, "model", "m", "backends", List.of("not a host", good)))))
                    .start("127.0.0.1", 0);
            try {
                Path log = TestModels.tempDir("lb-bad-entry").resolve("lb.err");
                ProcessBuilder pb = Processes.builder(
                                "lb", "--listen-port", "0", "--registry-url", "http://127.0.0.1:" + foreign.port())
                        .redirectErrorStream(false)
                        .redirectError(log.toFile())
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD);
                Process p = pb.start();
                try {
                    assertTrue(Await.until(
                            () -> Logs.read(log).contains("READY")
                                    || Logs.read(log).contains("bad entry"),
                            Duration.ofSeconds(60)));
                    assertTrue(
                            Await.until(
                                    () -> Logs.read(log).contains("lists a bad entry, skipped: 'not a host'"),
                                    Duration.ofSeconds(30)),
                            Logs.read(log));
                    assertFalse(
                            Logs.read(log).contains("unreachable"),
                            "the registry was reachable; the log must not say otherwise: " + Logs.read(log));
                } finally {
                    p.destroyForcibly().waitFor();
                }
                try (LoadBalancer lb = new LoadBalancer(LbOptions.builder()
                        .registry("http://127.0.0.1:" + foreign.port(), null)
                        .build())) {
                    assertEquals(
                            List.of(good),
                            lb.backends().stream().map(Backend::label).toList(),
                            "one bad entry never empties the list");
                    assertEquals(
                            200,
                            new OpenAiClient(HTTP, lb.url(), null, true)
                                    .post(
                                            "/v1/chat/completions",
                                            Map.of(
                                                    "model",
                                                    "m",
                                                    "messages",
                                                    List.of(Map.of("role", "user", "content", "hi"))),
                                            Map.of())
                                    .status());
                }
            } finally {
                foreign.stop();
            }
        }
    }
}
