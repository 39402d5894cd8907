package dev.rolloutlab.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Named fixture: an OpenAI-compatible server that does less than ours, as many written elsewhere do — chat only (404 on
 * {@code /v1/completions}), no {@code /health}, {@code stream} ignored (always one JSON body), no {@code usage}. With
 * {@code notFound} it answers 404 to everything. Our own serve cannot be made to lack these.
 */
public final class LesserOpenAiFixture implements AutoCloseable {
    private final HttpServer server;

    public LesserOpenAiFixture(boolean notFound) throws IOException {
        server = LoopbackHttpServer.create(128);
        server.createContext("/", ex -> {
            try (ex) {
                ex.getRequestBody().readAllBytes();
                String path = ex.getRequestURI().getPath();
                if (!notFound
                        && path.equals("/v1/models")
                        && ex.getRequestMethod().equals("GET")) {
                    send(ex, 200, "{\"object\":\"list\",\"data\":[{\"id\":\"lesser-model\",\"object\":\"model\"}]}");
                } else if (!notFound
                        && path.equals("/v1/chat/completions")
                        && ex.getRequestMethod().equals("POST")) {
                    send(
                            ex,
                            200,
                            "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"lesser-model\","
                                    + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hello there, friend of mine\"},"
                                    + "\"finish_reason\":\"stop\"}]}");
                } else {
                    send(ex, 404, "{\"error\": \"unknown path: " + path + "\"}");
                }
            }
        });
        server.start();
    }

    private static void send(HttpExchange ex, int status, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
