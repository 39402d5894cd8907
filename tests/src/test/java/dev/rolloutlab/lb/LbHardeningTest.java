package dev.rolloutlab.lb;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.cluster.EchoOpenAiServer;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ChildJvm;
import dev.rolloutlab.testing.CountingListener;
import dev.rolloutlab.testing.Logs;
import dev.rolloutlab.testing.Opened;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.Ports;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * The balancer as the probe stressed it: a backend that never answers, idle sockets by the thousand, open admin routes.
 */
class LbHardeningTest {
    static final OkHttpClient HTTP = OpenAiClient.http(64, Duration.ofSeconds(90));

    @AutoClose
    final Opened open = new Opened();

    static OpenAiClient.Exchange chat(OpenAiClient c) {
        return c.post(
                "/v1/chat/completions",
                Map.of("model", "m", "messages", List.of(Map.of("role", "user", "content", "hi"))),
                Map.of());
    }

    /** Two echo backends and one that accepts TCP but never answers, the hanging one first in the rotation. */
    List<String> backendsWithAHang() throws Exception {
        CountingListener hang = open.keep(new CountingListener());
        EchoOpenAiServer a = open.keep(new EchoOpenAiServer("127.0.0.1", 0, 1, "m", null));
        EchoOpenAiServer b = open.keep(new EchoOpenAiServer("127.0.0.1", 0, 2, "m", null));
        return List.of(hang.hostPort(), "127.0.0.1:" + a.port(), "127.0.0.1:" + b.port());
    }

    static double timed(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    @Test
    void noRequestWaitsLongerThanTheFirstByteTimeoutPlusOneRetry() throws Exception {
        LoadBalancer lb = open.keep(new LoadBalancer(LbOptions.builder()
                .backends(backendsWithAHang())
                .firstByteTimeout(Duration.ofSeconds(1))
                .healthInterval(Duration.ofSeconds(30))
                .build())); // no help from the health checker in this test
        OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
        double budget = 1.0
                + 1.0; // the timeout, plus one retry on a healthy backend (milliseconds) and slack for a busy machine
        for (int i = 0; i < 6; i++) {
            double sec = timed(() -> assertEquals(200, chat(c).status()));
            assertTrue(sec < budget, "sequential request " + i + " took " + sec + " s");
        }
        List<CompletableFuture<Double>> fs = new ArrayList<>();
        for (int i = 0; i < 16; i++)
            fs.add(CompletableFuture.supplyAsync(() -> timed(() -> assertEquals(200, chat(c).status()))));
        for (var f : fs) assertTrue(f.get() < budget, "concurrent request took " + f.get() + " s");
    }

    @Test
    void aBackendItsHealthCheckMarkedDownGetsNoNewRequestsAndWaitersFailOver() throws Exception {
        List<String> backends = backendsWithAHang();
        LoadBalancer lb = open.keep(new LoadBalancer(LbOptions.builder()
                .backends(backends)
                .healthInterval(Duration.ofMillis(200))
                .healthTimeout(Duration.ofMillis(500))
                .build())); // first-byte timeout auto: the 60 s backend timeout, nothing observed yet
        OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
        Backend hung = lb.backends().get(0);
        // requests already waiting on the hanging backend are released when its probe fails, not after 60 s
        double first = timed(() -> assertEquals(200, chat(c).status()));
        assertTrue(
                first < 5,
                "the first request failed over once the probe marked the backend down (took " + first + " s)");
        assertTrue(Await.until(() -> !hung.health.up, Duration.ofSeconds(5)), "the probe marked it down");
        long before = hung.stats.requests.get();
        for (int i = 0; i < 12; i++) {
            double sec = timed(() -> assertEquals(200, chat(c).status()));
            assertTrue(
                    sec < 1,
                    "request " + i + " took " + sec
                            + " s"); // an echo answers in ms; the 60 s hang is what must not show (margin)
        }
        assertEquals(before, hung.stats.requests.get(), "a backend marked down got no new requests");
    }

    @Test
    void connectionsBeyondTheLimitGetAQuick503AndTheBalancerKeepsServing() throws Exception {
        EchoOpenAiServer a = open.keep(new EchoOpenAiServer("127.0.0.1", 0, 1, "m", null));
        LoadBalancer lb = open.keep(new LoadBalancer(LbOptions.builder()
                .backends(List.of("127.0.0.1:" + a.port()))
                .maxConnections(8)
                .build()));
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) idle.add(new Socket("127.0.0.1", lb.port()));
            assertTrue(
                    Await.until(() -> lb.openConnections() == 8, Duration.ofSeconds(5)),
                    "8 open: " + lb.openConnections());
            // past the limit, a kept slot serves the balancer's own routes and refuses completions at once
            assertTrue(ask(lb, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
                    .contains("\"code\":\"busy\""));
            assertTrue(
                    ask(lb, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n").startsWith("HTTP/1.1 200"),
                    "an operator can still see it");
            for (int i = 0; i < LoadBalancer.RESERVED_CONNECTIONS; i++) idle.add(new Socket("127.0.0.1", lb.port()));
            try (Socket extra =
                    new Socket("127.0.0.1", lb.port())) { // past the kept slots too: 503 before a byte is sent
                extra.setSoTimeout(5000);
                String answer = new String(extra.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
                assertTrue(answer.contains("\"code\":\"busy\""), answer);
            }
        } finally {
            for (Socket s : idle) s.close();
        }
        assertTrue(Await.until(() -> lb.openConnections() == 0, Duration.ofSeconds(5)));
        assertEquals(
                200, chat(new OpenAiClient(HTTP, lb.url(), null, true)).status(), "serving again once clients left");
    }

    /** One request on a new connection; the whole answer once the balancer closes it. */
    static String ask(LoadBalancer lb, String request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", lb.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void outOfFileDescriptorsTheAcceptLoopBacksOffAndLogsOncePerInterval() throws Exception {
        EchoOpenAiServer a = open.keep(new EchoOpenAiServer("127.0.0.1", 0, 1, "m", null));
        int port = Ports.free();
        Path err = TestModels.tempDir("lb-emfile").resolve("lb.err");
        List<String> cmd = new ArrayList<>(ChildJvm.command(
                "lb",
                List.of(
                        "--listen-port",
                        String.valueOf(port),
                        "--backends",
                        "127.0.0.1:" + a.port(),
                        "--max-connections",
                        "100000")));
        String line = String.join(
                " ", cmd.stream().map(s -> "'" + s.replace("'", "'\\''") + "'").toList());
        Process p = new ProcessBuilder("bash", "-c", "ulimit -n 200 && exec " + line)
                .redirectError(err.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        List<Socket> flood = new ArrayList<>();
        try {
            OpenAiClient c = new OpenAiClient(HTTP, "http://127.0.0.1:" + port, null, true);
            assertTrue(Await.until(() -> c.get("/health").status() == 200, Duration.ofSeconds(60)), "lb up");
            for (int i = 0; i < 400; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                flood.add(s); // the kernel completes the handshake; the lb runs out of descriptors accepting them
            }
            assertTrue(
                    Await.until(
                            () -> Files.exists(err) && Logs.read(err).contains("Too many open files"),
                            Duration.ofSeconds(15)),
                    Logs.read(err));
            Thread.sleep(2000); // a window in which an unthrottled accept loop would have logged thousands of lines
            long lines = Logs.read(err)
                    .lines()
                    .filter(l -> l.contains("accept failed"))
                    .count();
            assertTrue(lines <= 2, lines + " accept-failure lines in 2 s:\n" + Logs.read(err));
            assertTrue(p.isAlive());
            for (Socket s : flood) s.close();
            flood.clear();
            assertTrue(
                    Await.until(() -> chat(c).status() == 200, Duration.ofSeconds(20)),
                    "a valid request succeeds once descriptors are free");
        } finally {
            for (Socket s : flood) s.close();
            p.destroyForcibly().waitFor();
        }
    }

    @Test
    void adminRoutesNeedTheKeyMetricsAreTheOperatorsChoiceAndBadFramingGetsJson() throws Exception {
        EchoOpenAiServer a = open.keep(new EchoOpenAiServer("127.0.0.1", 0, 1, "m", "k"));
        LoadBalancer lb = open.keep(new LoadBalancer(LbOptions.builder()
                .backends(List.of("127.0.0.1:" + a.port()))
                .apiKey("k")
                .build()));
        OpenAiClient anon = new OpenAiClient(HTTP, lb.url(), null, true),
                keyed = new OpenAiClient(HTTP, lb.url(), "k", true);
        assertEquals(401, anon.get("/admin/backends").status());
        assertEquals(401, anon.get("/metrics").status());
        assertEquals(200, keyed.get("/admin/backends").status());
        assertEquals(200, keyed.get("/metrics").status());
        var unauthorized = chat(anon);
        assertEquals(401, unauthorized.status());
        assertEquals(
                "invalid_api_key",
                unauthorized.json().path("error").path("code").asText(),
                unauthorized.body());
        LoadBalancer pub = open.keep(new LoadBalancer(LbOptions.builder()
                .backends(List.of("127.0.0.1:" + a.port()))
                .apiKey("k")
                .publicMetrics(true)
                .build()));
        assertEquals(
                200,
                new OpenAiClient(HTTP, pub.url(), null, true).get("/metrics").status());
        try (Socket s = new Socket("127.0.0.1", lb.port())) {
            s.getOutputStream()
                    .write("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"
                            .getBytes(StandardCharsets.ISO_8859_1));
            s.setSoTimeout(5000);
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
            assertTrue(answer.contains("application/json") && answer.contains("bad Content-Length"), answer);
        }
    }
}
