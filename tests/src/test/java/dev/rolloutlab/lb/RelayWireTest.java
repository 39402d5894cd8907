package dev.rolloutlab.lb;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relay's HTTP/1.1 handling as a client sees it on the wire (raw sockets against the real balancer in front of a
 * real {@code serve}): chunked request bodies, pipelining, {@code Expect: 100-continue}, HTTP/1.0, {@code Connection:
 * close}, bodies too large to keep for failover, and garbage.
 */
class RelayWireTest {
    static ServerGroup server;
    static LoadBalancer lb;
    static final String BODY = "{\"prompt\":\"hello\",\"max_tokens\":2,\"temperature\":0}";

    @BeforeAll
    static void start() {
        server = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                .engines(ServerGroup.Engines.SHARED)
                .servedModelName("m")
                .idleTimeout(Duration.ofSeconds(30))
                .build());
        lb = new LoadBalancer(LbOptions.builder()
                .backends(List.of(server.urls().get(0)))
                .backendTimeout(Duration.ofSeconds(20))
                .build());
    }

    @AfterAll
    static void stop() {
        lb.close();
        server.close();
    }

    /** A response as read off the socket: status line, headers and the decoded body. */
    record Resp(String statusLine, String headers, String body) {
        int status() {
            return Integer.parseInt(statusLine.substring(9, 12));
        }

        boolean has(String headerLine) {
            return headers.toLowerCase().contains(headerLine.toLowerCase());
        }
    }

    static Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", lb.port());
        s.setSoTimeout(20_000);
        return s;
    }

    static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') if (c != '\r') b.write(c);
        if (c < 0 && b.size() == 0) return null;
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads one response, decoding Content-Length or chunked framing (or until close). */
    static Resp read(InputStream in) throws IOException {
        String status = line(in);
        assertNotNull(status, "connection closed before a response");
        StringBuilder h = new StringBuilder();
        long len = -1;
        boolean chunked = false;
        String l;
        while ((l = line(in)) != null && !l.isEmpty()) {
            h.append(l).append('\n');
            String lower = l.toLowerCase();
            if (lower.startsWith("content-length:"))
                len = Long.parseLong(l.substring(15).trim());
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) chunked = true;
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (chunked) {
            while (true) {
                int size = Integer.parseInt(line(in).trim(), 16);
                if (size == 0) {
                    while (!line(in).isEmpty()) {
                        // trailers
                    }
                    break;
                }
                body.write(in.readNBytes(size));
                assertEquals("", line(in), "CRLF after a chunk");
            }
        } else if (len >= 0) {
            body.write(in.readNBytes((int) len));
        } else {
            body.write(in.readAllBytes());
        }
        return new Resp(status, h.toString(), body.toString(StandardCharsets.UTF_8));
    }

    static byte[] post(String extraHeaders, String body) {
        return ("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extraHeaders
                        + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body)
                .getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void pipelinedRequestsOnOneConnectionAreAnsweredInOrder() throws Exception {
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            byte[] one = post("", BODY);
            byte[] health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.write(one);
            all.write(health);
            all.write(one);
            out.write(all.toByteArray()); // three requests in one write
            InputStream in = s.getInputStream();
            Resp a = read(in), b = read(in), c = read(in);
            assertEquals(200, a.status(), a.body());
            assertTrue(a.has("X-OpenAI-LB-Backend:"), a.headers());
            assertTrue(a.body().contains("\"choices\""));
            assertEquals(200, b.status());
            assertFalse(b.has("X-OpenAI-LB-Backend:"), "/health is the balancer's own");
            assertEquals(200, c.status(), c.body());
        }
    }

    @Test
    void chunkedRequestBodyWithExtensionsAndTrailersIsForwardedWhole() throws Exception {
        try (Socket s = connect()) {
            String half1 = BODY.substring(0, 10), half2 = BODY.substring(10);
            String req =
                    "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + Integer.toHexString(half1.length()) + ";ext=1\r\n" + half1 + "\r\n"
                            + Integer.toHexString(half2.length()) + "\r\n" + half2 + "\r\n0\r\nX-Trailer: t\r\n\r\n";
            s.getOutputStream().write(req.getBytes(StandardCharsets.UTF_8));
            Resp r = read(s.getInputStream());
            assertEquals(200, r.status(), r.body());
            assertTrue(r.body().contains("\"usage\""), r.body());
        }
    }

    @Test
    void expectContinueGetsAn100BeforeTheBody() throws Exception {
        try (Socket s = connect()) {
            byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
            s.getOutputStream()
                    .write(
                            ("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
                                            + "Content-Length: " + body.length + "\r\n\r\n")
                                    .getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            assertEquals("HTTP/1.1 100 Continue", line(in));
            assertEquals("", line(in));
            s.getOutputStream().write(body);
            Resp r = read(in);
            assertEquals(200, r.status(), r.body());
        }
    }

    @Test
    void connectionCloseAndHttp10AreHonoured() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write(post("Connection: close\r\n", BODY));
            InputStream in = s.getInputStream();
            Resp r = read(in);
            assertEquals(200, r.status());
            assertTrue(r.has("Connection: close"), r.headers());
            assertEquals(-1, in.read(), "the balancer closed the connection after the response");
        }
        try (Socket s = connect()) {
            String body = BODY.replace("\"temperature\":0", "\"temperature\":0,\"stream\":true");
            s.getOutputStream()
                    .write(("POST /v1/completions HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: "
                                    + body.length() + "\r\n\r\n" + body)
                            .getBytes(StandardCharsets.ISO_8859_1));
            Resp r = read(s.getInputStream()); // a stream to an HTTP/1.0 client cannot be chunked: it ends with the
            // connection
            assertEquals(200, r.status());
            assertFalse(r.has("Transfer-Encoding"), r.headers());
            assertTrue(r.body().contains("data: [DONE]"), r.body());
        }
    }

    @Test
    void aBodyTooLargeToKeepIsStreamedToTheBackendWhichDecides() throws Exception {
        int size = Relay.BUFFERED_BODY_LIMIT + 1024;
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                            + size + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    byte[] junk = new byte[64 * 1024];
                    Arrays.fill(junk, (byte) 'x');
                    for (int left = size; left > 0; left -= junk.length)
                        out.write(junk, 0, Math.min(left, junk.length));
                } catch (IOException ignored) {
                    // the backend may answer and close before reading it all
                }
            });
            Resp r = read(s.getInputStream());
            writer.join(20_000);
            assertTrue(
                    r.has("X-OpenAI-LB-Backend:"),
                    "the backend answered, not the balancer: " + r.statusLine() + " " + r.body());
            assertTrue(r.status() >= 400 && r.status() < 500, r.statusLine());
        }
    }

    @Test
    void garbageGetsA400AndTheBalancerKeepsServing() throws Exception {
        try (Socket s = connect()) {
            s.getOutputStream().write("THIS IS NOT HTTP\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            Resp r = read(s.getInputStream());
            assertEquals(400, r.status(), r.body());
        }
        try (Socket s = connect()) {
            s.getOutputStream().write(post("", BODY));
            assertEquals(200, read(s.getInputStream()).status());
        }
    }
}
