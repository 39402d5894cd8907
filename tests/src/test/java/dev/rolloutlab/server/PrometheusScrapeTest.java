package dev.rolloutlab.server;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.lb.LbOptions;
import dev.rolloutlab.lb.LoadBalancer;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.Ports;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A real Prometheus (Debian's {@code prometheus}) scrapes two serve ports and the balancer in front of them every
 * second during a short bench; PromQL over its HTTP API must agree with what the bench itself counted. Counts agree
 * exactly. A time-to-first-token quantile agrees within what a histogram and the path can differ by: serve's TTFT lies
 * between its own queue + prefill (Server-Timing) and the client's TTFT, which adds the HTTP path, and
 * {@code histogram_quantile} places a quantile inside the bucket that holds it, so its estimate lies between the bucket
 * bound at or below the first and the bucket bound at or above the second.
 */
class PrometheusScrapeTest {
    private static final String KEY = "sk-metrics", ADMIN = "adm-metrics";
    private static final int REQUESTS = 40;
    private static final HttpClient PLAIN = HttpClient.newHttpClient();

    private static ServerGroup servers;
    private static LoadBalancer lb;
    private static Process prometheus;
    private static String promUrl;

    @BeforeAll
    static void start() throws Exception {
        servers = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                .ports(List.of(0, 0))
                .servedModelName("tiny")
                .apiKey(KEY)
                .weightAdmin(ADMIN)
                .build());
        lb = new LoadBalancer(LbOptions.builder()
                .backends(servers.urls())
                .apiKey(KEY)
                .healthInterval(Duration.ofMillis(500))
                .build());
        Path dir = TestModels.tempDir("prometheus");
        int port = Ports.free();
        promUrl = "http://127.0.0.1:" + port;
        Files.writeString(dir.resolve("prometheus.yml"), config(servers.urls(), lb.url()));
        prometheus = new ProcessBuilder(
                        "prometheus",
                        "--config.file=" + dir.resolve("prometheus.yml"),
                        "--storage.tsdb.path=" + dir.resolve("data"),
                        "--web.listen-address=127.0.0.1:" + port,
                        "--log.level=warn")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("prometheus.log").toFile())
                .start();
        assertTrue(
                Await.until(() -> get(promUrl + "/-/ready").startsWith("200"), Duration.ofSeconds(60)),
                "Prometheus did not become ready; its log: " + Files.readString(dir.resolve("prometheus.log")));
        // every target scraped successfully once: the auth and the exposition format are right
        assertTrue(
                Await.until(() -> scalar("sum(up)") == 3, Duration.ofSeconds(30)),
                "all three targets up; targets: " + get(promUrl + "/api/v1/targets"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (prometheus != null) {
            prometheus.destroy();
            prometheus.waitFor(10, TimeUnit.SECONDS);
        }
        if (lb != null) lb.close();
        if (servers != null) servers.close();
    }

    @Test
    void promQlAgreesWithTheBenchOnRequestsTokensAndTimeToFirstToken() throws Exception {
        Path out = TestModels.tempDir("prometheus-bench").resolve("run");
        Processes.Run r = Processes.run(
                180,
                "bench",
                "--target",
                lb.url(),
                "--api-key",
                KEY,
                "--model",
                "tiny",
                "--endpoint",
                "completions",
                "--num-prompts",
                String.valueOf(REQUESTS),
                "--input-len",
                "24",
                "--max-tokens",
                "8",
                "--concurrency",
                "4",
                "--warmup",
                "0",
                "--out",
                out.toString());
        assertEquals(0, r.exit(), r.err());
        List<JsonNode> recs = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("requests.jsonl"))) recs.add(Json.parse(line));
        assertEquals(REQUESTS, recs.size());
        long prompt = 0, generated = 0;
        double[] clientTtft = new double[recs.size()], engineFirst = new double[recs.size()];
        for (int i = 0; i < recs.size(); i++) {
            JsonNode n = recs.get(i);
            assertEquals(200, n.path("status").asInt(), n.toString());
            prompt += n.path("prompt_tokens").asLong();
            generated += n.path("completion_tokens").asLong();
            clientTtft[i] =
                    (n.path("first_token_ns").asLong() - n.path("sent_ns").asLong()) / 1e9;
            JsonNode st = n.path("server_timing");
            engineFirst[i] =
                    (st.path("queue_ms").asDouble() + st.path("prefill_ms").asDouble()) / 1e3;
        }
        // a scrape after the bench's last request: the counters stop moving at the bench's count
        assertTrue(
                Await.until(() -> scalar("sum(vllm:request_success_total)") == REQUESTS, Duration.ofSeconds(20)),
                "serve's finished samples reach the bench's " + REQUESTS + ": "
                        + scalar("sum(vllm:request_success_total)"));
        assertEquals(REQUESTS, scalar("sum(vllm:request_success_total{finished_reason=\"length\"})"), "max_tokens");
        assertEquals(prompt, scalar("sum(vllm:prompt_tokens_total)"), "prompt tokens");
        assertEquals(generated, scalar("sum(vllm:generation_tokens_total)"), "generated tokens");
        assertEquals(REQUESTS, scalar("sum(vllm:e2e_request_latency_seconds_count)"));
        assertEquals(REQUESTS * 7, scalar("sum(vllm:inter_token_latency_seconds_count)"), "7 gaps in 8 tokens");
        // the balancer is a target of its own, scraped at its own moments: wait for a scrape after the last request
        // there too (one suite run read 21 of 40 from the scrape before)
        Await.until(() -> scalar("sum(lb_backend_first_byte_seconds_count)") >= REQUESTS, Duration.ofSeconds(20));
        assertEquals(REQUESTS, scalar("sum(lb_requests_total)"), "the balancer's attempts, none retried");
        assertEquals(REQUESTS, scalar("sum(lb_backend_first_byte_seconds_count)"));
        assertEquals(0, scalar("sum(vllm:num_requests_running)"), "nothing left running");

        for (double q : new double[] {0.5, 0.9}) {
            double estimate =
                    scalar("histogram_quantile(" + q + ", sum by (le) (vllm:time_to_first_token_seconds_bucket))");
            double low = bucketAtOrBelow(quantile(engineFirst, q)), high = bucketAtOrAbove(quantile(clientTtft, q));
            assertTrue(
                    estimate >= low && estimate <= high,
                    "TTFT p" + (int) (q * 100) + ": Prometheus " + estimate + " s, expected within [" + low + ", "
                            + high + "] (serve's queue + prefill " + quantile(engineFirst, q) + " s, the client's "
                            + quantile(clientTtft, q) + " s)");
        }
    }

    @Test
    void metricsNeedTheAdminTokenOrTheApiKeyWhenOneIsSet() {
        String url = servers.urls().get(0);
        OkClients c = new OkClients(url);
        assertEquals(401, c.anon.get("/metrics").status());
        assertEquals(200, c.keyed.get("/metrics").status());
        var admin = c.anon.getWith("/metrics", Map.of("X-Admin-Token", ADMIN));
        assertEquals(200, admin.status());
        assertTrue(
                admin.body().contains("vllm:num_requests_running{engine=\"port0\",model_name=\"tiny\",port=\""),
                admin.body());
        assertEquals(401, new OkClients(lb.url()).anon.get("/metrics").status(), "the balancer's too");
        try (ServerGroup open = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                .apiKey(KEY)
                .publicMetrics(true)
                .build())) {
            assertEquals(
                    200, new OkClients(open.urls().get(0)).anon.get("/metrics").status(), "--public-metrics");
        }
    }

    @Test
    void aWeightChangeIsCountedByKindAndMovesTheVersion() {
        String url = servers.urls().get(1);
        OkClients c = new OkClients(url);
        var r = c.anon.post("/admin/perturb_weights", Map.of("seed", 3, "scale", 1e-4), Map.of("X-Admin-Token", ADMIN));
        assertEquals(200, r.status(), r.body());
        String text = c.keyed.get("/metrics").body();
        assertTrue(
                text.contains("rolloutlab_weight_changes_total{engine=\"port1\",kind=\"perturb\",model_name=\"tiny\","
                        + "result=\"ok\"} 1"),
                text);
        assertTrue(
                text.lines()
                        .anyMatch(
                                l -> l.startsWith("rolloutlab_weights_version{engine=\"port1\"") && l.endsWith(" 1.0")),
                text);
    }

    /** Clients of one server without and with the API key. */
    private record OkClients(OpenAiClient anon, OpenAiClient keyed) {
        OkClients(String url) {
            this(
                    new OpenAiClient(OpenAiClient.http(2, Duration.ofSeconds(10)), url, null, true),
                    new OpenAiClient(OpenAiClient.http(2, Duration.ofSeconds(10)), url, KEY, true));
        }
    }

    private static String config(List<String> serve, String lbUrl) {
        return """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 900ms
                scrape_configs:
                  - job_name: serve
                    authorization: {credentials: %s}
                    static_configs: [{targets: [%s]}]
                  - job_name: lb
                    authorization: {credentials: %s}
                    static_configs: [{targets: ['%s']}]
                """.formatted(
                ADMIN,
                String.join(
                        ", ", serve.stream().map(u -> "'" + hostPort(u) + "'").toList()),
                KEY,
                hostPort(lbUrl));
    }

    private static String hostPort(String url) {
        return URI.create(url).getAuthority();
    }

    /** One PromQL query's single value; NaN when it has none (yet). */
    private static double scalar(String promql) {
        String body = get(promUrl + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        if (!body.startsWith("200 ")) return Double.NaN;
        JsonNode result;
        try {
            result = Json.parse(body.substring(4)).path("data").path("result");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError("Prometheus answered no JSON: " + body, e);
        }
        if (!result.isArray() || result.isEmpty()) return Double.NaN;
        return Double.parseDouble(result.get(0).path("value").get(1).asText());
    }

    /** "STATUS BODY" of a GET, or "0 error" when nothing answered. */
    private static String get(String url) {
        try {
            HttpResponse<String> r = PLAIN.send(
                    HttpRequest.newBuilder(URI.create(url))
                            .timeout(Duration.ofSeconds(5))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() + " " + r.body();
        } catch (IOException e) {
            return "0 " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "0 interrupted";
        }
    }

    private static double quantile(double[] xs, double q) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s[(int) Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
    }

    private static double bucketAtOrBelow(double x) {
        double b = 0;
        for (double bound : ServeMetrics.SECONDS) if (bound <= x) b = bound;
        return b;
    }

    private static double bucketAtOrAbove(double x) {
        for (double bound : ServeMetrics.SECONDS) if (bound >= x) return bound;
        return Double.POSITIVE_INFINITY;
    }
}
