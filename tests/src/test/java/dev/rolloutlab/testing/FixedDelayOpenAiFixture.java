package dev.rolloutlab.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A named fake backend: answers every completion after exactly {@code delayMs}, with a fixed one-token body. It exists
 * for the load generator's timing tests, which need a server whose service time is known and can be changed on purpose;
 * the real engine's latency varies with the machine. Nothing else may use it.
 */
public final class FixedDelayOpenAiFixture implements AutoCloseable {
    private final HttpServer server;
    private final AtomicLong delayMs;
    private final AtomicLong served = new AtomicLong();

    public FixedDelayOpenAiFixture(long delayMs) {
        this.delayMs = new AtomicLong(delayMs);
        server = LoopbackHttpServer.create(256);
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            try {
                Thread.sleep(this.delayMs.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body =
                    ("{\"id\":\"x\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\"ok\",\"finish_reason\":\"length\"}],"
                                    + "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}")
                            .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.getResponseHeaders().add("X-Backend-Id", "fixture");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
            }
            served.incrementAndGet();
        });
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public void setDelayMs(long ms) {
        delayMs.set(ms);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
