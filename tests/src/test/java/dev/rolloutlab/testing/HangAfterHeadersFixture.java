package dev.rolloutlab.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A named fake backend for one failure our real server never shows: it sends response headers and one SSE event, then
 * hangs. The load balancer must cut such a backend at its timeout instead of holding the client forever.
 */
public final class HangAfterHeadersFixture implements AutoCloseable {
    private final HttpServer server;

    public HangAfterHeadersFixture() {
        server = LoopbackHttpServer.create(16);
        server.createContext("/health", ex -> {
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.createContext("/v1/", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.getResponseHeaders().add("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            OutputStream os = ex.getResponseBody();
            os.write("data: {\"choices\":[{\"index\":0,\"text\":\"x\"}]}\n\n".getBytes(StandardCharsets.UTF_8));
            os.flush();
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
        });
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
