package dev.rolloutlab.lb;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.cluster.EchoOpenAiServer;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.Opened;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The balancer against the second probe: sockets that trickle a header byte at a time, one client holding every slot,
 * bodies declared large and never sent, request heads a lenient backend would read differently, and a backend whose
 * /health passes while every completion stalls.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class SlowClientsSmugglingAndStallsTest {
    static final OkHttpClient HTTP = OpenAiClient.http(64, Duration.ofSeconds(90));

    @AutoClose
    final Opened open = new Opened();

    LoadBalancer echoLb(LbOptions.ClientLimits limits) {
        EchoOpenAiServer a = open.keep(new EchoOpenAiServer("127.0.0.1", 0, 1, "m", null));
        return open.keep(new LoadBalancer(LbOptions.builder()
                .backends(List.of("127.0.0.1:" + a.port()))
                .clients(limits)
                .build()));
    }

    static Socket connect(LoadBalancer lb, String from) throws Exception {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
        s.connect(new InetSocketAddress("127.0.0.1", lb.port()));
        return s;
    }

    @Test
    void aHeadTrickledAByteAtATimeIsCutAtTheHeaderTimeout() throws Exception {
        Duration header = Duration.ofSeconds(1);
        LoadBalancer lb = echoLb(new LbOptions.ClientLimits(1024, header, 16 << 10, 64L << 20));
        try (Socket s = connect(lb, "127.0.0.1")) {
            OutputStream out = s.getOutputStream();
            out.write("POST /v1/chat/completions HTTP/1.1\r\n".getBytes(StandardCharsets.ISO_8859_1));
            long t0 = System.nanoTime();
            // a byte every 200 ms: each one restarted the old idle timeout, so this could hold the slot forever
            boolean cut = false;
            for (int i = 0; i < 50 && !cut; i++) {
                try {
                    out.write('X');
                    out.flush();
                    s.setSoTimeout(200);
                    cut = s.getInputStream().read() < 0;
                } catch (SocketTimeoutException stillOpen) {
                    // not cut yet
                } catch (IOException reset) {
                    cut = true;
                }
            }
            double sec = (System.nanoTime() - t0) / 1e9;
            assertTrue(cut, "still open after " + sec + " s of trickling");
            // the deadline runs from the head's first byte; a trickle byte arrives within 200 ms, so 1 s + 0.2 s +
            // scheduling
            assertTrue(sec < header.toMillis() / 1000.0 + 1.0, "cut after " + sec + " s, header timeout " + header);
        }
        assertTrue(Await.until(() -> lb.openConnections() == 0, Duration.ofSeconds(5)));
    }

    @Test
    void oneClientCannotHoldEverySlot() throws Exception {
        LoadBalancer lb = echoLb(new LbOptions.ClientLimits(8, Duration.ofSeconds(30), 16 << 10, 64L << 20));
        List<Socket> hog = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) hog.add(connect(lb, "127.0.0.1"));
            assertTrue(Await.until(() -> lb.openConnections() == 8, Duration.ofSeconds(5)));
            try (Socket ninth = connect(lb, "127.0.0.1")) {
                ninth.setSoTimeout(5000);
                String answer = new String(ninth.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertTrue(answer.startsWith("HTTP/1.1 503"), answer);
            }
            // another address (loopback is a /8) is another client, with its own share
            try (Socket other = connect(lb, "127.0.0.2")) {
                other.setSoTimeout(5000);
                other.getOutputStream()
                        .write(
                                ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 57\r\n\r\n"
                                                + "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                                        .getBytes(StandardCharsets.ISO_8859_1));
                String answer = new String(other.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
            }
        } finally {
            for (Socket s : hog) s.close();
        }
    }

    @Test
    void aDeclaredBodyHoldsMemoryOnlyAsItsBytesArrive() throws Exception {
        LoadBalancer lb = echoLb(new LbOptions.ClientLimits(1024, Duration.ofSeconds(30), 1, 16L << 20));
        Relay relay = lb.relay();
        List<Socket> declared = new ArrayList<>();
        try {
            for (int i = 0; i < 100; i++) {
                Socket s = connect(lb, "127.0.0.1");
                declared.add(s);
                s.getOutputStream()
                        .write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 8000000\r\n\r\n{"
                                .getBytes(StandardCharsets.ISO_8859_1));
            }
            long firstBuffer = 64 << 10;
            // each holds one first buffer, not the 8 MB it declared: 6.4 MB in all, where the old reader held 800 MB
            assertTrue(
                    Await.until(() -> relay.bodyMemoryHeld() == 100 * firstBuffer, Duration.ofSeconds(10)),
                    "held " + relay.bodyMemoryHeld());
            // past the budget a body is refused with 503 and the balancer keeps serving
            List<Socket> more = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                Socket s = connect(lb, "127.0.0.1");
                more.add(s);
                s.getOutputStream()
                        .write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 8000000\r\n\r\n{"
                                .getBytes(StandardCharsets.ISO_8859_1));
            }
            declared.addAll(more);
            assertTrue(relay.bodyMemoryHeld() <= 16L << 20, "over the budget: " + relay.bodyMemoryHeld());
            int refused = 0;
            for (Socket s : more) {
                s.setSoTimeout(100);
                try {
                    byte[] head = s.getInputStream().readNBytes(12);
                    if (new String(head, StandardCharsets.ISO_8859_1).equals("HTTP/1.1 503")) refused++;
                } catch (SocketTimeoutException holding) {
                    // one of those within the budget
                }
            }
            assertTrue(refused > 0, "nobody was refused past the budget");
        } finally {
            for (Socket s : declared) s.close();
        }
        assertTrue(
                Await.until(() -> relay.bodyMemoryHeld() == 0, Duration.ofSeconds(15)),
                "given back: " + relay.bodyMemoryHeld());
        assertEquals(
                200,
                new OpenAiClient(HTTP, lb.url(), null, true)
                        .post(
                                "/v1/chat/completions",
                                Map.of(
                                        "model",
                                        "m",
                                        "messages",
                                        List.of(Map.of("role", "user", "content", "x".repeat(900 << 10)))),
                                Map.of())
                        .status());
    }

    static String exchange(LoadBalancer lb, String raw) throws Exception {
        try (Socket s = connect(lb, "127.0.0.1")) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1); // all of it: the balancer must close
        }
    }

    @Test
    void malformedHeadsAreRefusedWith400AndTheConnectionClosed() throws Exception {
        LoadBalancer lb = echoLb(LbOptions.ClientLimits.DEFAULT);
        String body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
        List<String> smuggles = List.of(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: "
                        + body.length() + "\r\n\r\n" + body,
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                        + "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                        + "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n",
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\nContent-Length: " + body.length()
                        + "\r\n\r\n" + body,
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\nContent-Length: " + body.length()
                        + "\r\n\r\n" + body,
                "POST /v1/chat/completions x HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n"
                        + body,
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n+3b\r\n" + body
                        + "\r\n0\r\n\r\n",
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
        for (String raw : smuggles) {
            String answer = exchange(lb, raw);
            assertTrue(answer.startsWith("HTTP/1.1 400"), raw.replace("\r\n", "\\r\\n") + " -> " + answer);
            assertEquals(1, answer.split("HTTP/1.1 ", -1).length - 1, "one answer, then close: " + answer);
        }
        assertTrue(
                exchange(
                                lb,
                                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: "
                                        + body.length() + "\r\n\r\n" + body)
                        .startsWith("HTTP/1.1 200"),
                "a well-formed request still passes");
    }

    @Test
    void aBackendThatPassesHealthButStallsCompletionsHoldsNoRequestPastTheLimitPlusOneRetry() throws Exception {
        ServerGroup good = open.keep(ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                .ports(List.of(0))
                .servedModelName("m")
                .build()));
        ServerGroup stalled = open.keep(ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                .ports(List.of(0))
                .servedModelName("m")
                .testDelays(new ServerGroup.TestDelays(Duration.ofMinutes(5), Duration.ZERO))
                .build()));
        Duration limit = Duration.ofSeconds(1);
        LoadBalancer lb = open.keep(new LoadBalancer(LbOptions.builder()
                .backends(List.of(
                        stalled.urls().get(0).substring(7), good.urls().get(0).substring(7)))
                .firstByteTimeout(limit)
                .healthInterval(Duration.ofMillis(200))
                .breaker(3, Duration.ofSeconds(60))
                .build()));
        OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
        assertTrue(Await.until(() -> lb.backends().stream().allMatch(Backend::isUp), Duration.ofSeconds(10)));
        // the healthy backend's own time, measured here: the retry's share of the worst case
        long g0 = System.nanoTime();
        assertEquals(
                200,
                new OpenAiClient(HTTP, good.urls().get(0), null, true)
                        .post("/v1/completions", Map.of("prompt", "hi", "max_tokens", 2), Map.of())
                        .status());
        double retrySec = (System.nanoTime() - g0) / 1e9;
        int concurrency = 6;
        List<CompletableFuture<Double>> runs = new ArrayList<>();
        var pool = Executors.newFixedThreadPool(concurrency);
        try {
            for (int i = 0; i < 30; i++) {
                runs.add(CompletableFuture.supplyAsync(
                        () -> {
                            long t0 = System.nanoTime();
                            var x = c.post("/v1/completions", Map.of("prompt", "hi", "max_tokens", 2), Map.of());
                            assertEquals(200, x.status(), x.body());
                            return (System.nanoTime() - t0) / 1e9;
                        },
                        pool));
            }
            List<Double> secs = runs.stream().map(CompletableFuture::join).toList();
            double worst = secs.stream().mapToDouble(d -> d).max().orElseThrow();
            // the stated worst case: the first-byte limit plus one retry on a healthy backend, with 1 s for two busy
            // cores
            assertTrue(worst < limit.toMillis() / 1000.0 + retrySec + 1.0, "worst " + worst + " s; all: " + secs);
            long slow = secs.stream()
                    .filter(d -> d > limit.toMillis() / 1000.0 * 0.9)
                    .count();
            // only requests sent before the third timeout ejected it can wait the limit: three, plus those in flight
            // then
            assertTrue(slow <= 3 + concurrency, slow + " requests waited the limit: " + secs);
        } finally {
            pool.shutdownNow();
        }
        Backend s = lb.backends().get(0);
        assertTrue(s.isUp(), "its /health still passes, which is the point");
        assertEquals("ejected", s.health.breakerState(System.nanoTime()));
    }
}
