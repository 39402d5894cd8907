package dev.rolloutlab.openai;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.ListeningSockets;
import dev.rolloutlab.testing.TestModels;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A control-plane read after the server closed its idle pooled connection still answers: an experiment that reads a
 * balancer's {@code /metrics} only between rounds minutes apart lost those reads.
 */
class IdleConnectionTest {
    @Test
    void aGetOnAConnectionTheServerClosedWhileItIdledIsSentAgain() throws Exception {
        try (ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                .engines(ServerGroup.Engines.SHARED)
                .servedModelName("tiny")
                .idleTimeout(Duration.ofSeconds(2))
                .build())) {
            int port = g.ports().get(0);
            var c = new OpenAiClient(
                    OpenAiClient.http(2, Duration.ofSeconds(10)), g.urls().get(0), null, true);
            OpenAiClient.Exchange first = c.get("/health");
            assertEquals(200, first.status(), "error: " + first.error());
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (ListeningSockets.closedByServer(port) == 0) { // the server's FIN reached the pooled connection
                assertTrue(System.nanoTime() < deadline, "the server never closed the idle connection");
                Thread.sleep(20);
            }
            OpenAiClient.Exchange again = c.get("/health");
            assertEquals(200, again.status(), "error: " + again.error());
            assertEquals(0, ListeningSockets.closedByServer(port), "the closed connection left the pool");
        }
    }
}
