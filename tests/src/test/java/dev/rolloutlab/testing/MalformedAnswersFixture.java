package dev.rolloutlab.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A named fake backend for answers our real server never gives: under {@code /bad-sse} a stream whose second event is
 * not JSON, under {@code /not-json} an HTML page with status 200, under {@code /no-choices} a JSON body without
 * choices, under {@code /busy} a 503. Each prefix is a base URL for a client.
 */
public final class MalformedAnswersFixture implements AutoCloseable {
    private final HttpServer server;

    public MalformedAnswersFixture() {
        server = LoopbackHttpServer.create(16);
        answer(
                "/bad-sse",
                200,
                "text/event-stream",
                "data: {\"choices\":[{\"index\":0,\"text\":\"x\"}]}\n\n" + "data: {\"choices\":[{\"index\":0,\"te\n\n"
                        + "data: [DONE]\n\n");
        answer("/not-json", 200, "application/json", "<html>502 Bad Gateway</html>");
        answer("/no-choices", 200, "application/json", "{\"object\":\"text_completion\",\"choices\":[]}");
        answer("/busy", 503, "application/json", "{\"error\":{\"message\":\"overloaded\"}}");
        server.start();
    }

    private void answer(String prefix, int status, String type, String body) {
        server.createContext(prefix + "/v1/", ex -> {
            ex.getRequestBody().readAllBytes();
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", type);
            ex.sendResponseHeaders(status, bytes.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(bytes);
            }
        });
    }

    /** The base URL of the answers under {@code prefix}. */
    public String url(String prefix) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + prefix;
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
