package dev.rolloutlab.bench;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.cluster.RegistryServer;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FanoutTest {
    @Test
    void fanoutReachesEveryRegisteredBackendAndFailsLoudlyOnADeadOne() throws Exception {
        try (ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                        .ports(List.of(0, 0, 0, 0))
                        .engines(ServerGroup.Engines.SHARED)
                        .servedModelName("tiny")
                        .idleTimeout(Duration.ofSeconds(30))
                        .build());
                RegistryServer reg = new RegistryServer(
                        "127.0.0.1",
                        0,
                        "tiny",
                        g.ports().stream().map(p -> "127.0.0.1:" + p).toList(),
                        Duration.ofSeconds(30),
                        null)) {
            Processes.Run r = Processes.run(120, "fanout", "--registry-url", reg.url(), "--max-tokens", "4");
            assertEquals(0, r.exit(), r.err());
            List<String> resp =
                    r.out().lines().filter(l -> l.startsWith("RESP ")).toList();
            assertEquals(4, resp.size(), r.out());
            assertTrue(
                    resp.stream()
                            .allMatch(l -> l.matches(
                                    "RESP backend=127\\.0\\.0\\.1:\\d+ status=200 sec=\\d+\\.\\d{3} content=.*")),
                    r.out());
            assertTrue(r.out().lines().anyMatch(l -> l.matches("DONE backends=4 wall_sec=\\d+\\.\\d{3}")), r.out());

            int dead;
            try (var s = new ServerSocket(0)) {
                dead = s.getLocalPort();
            }
            List<String> withDead = new ArrayList<>(reg.backendList());
            withDead.add("127.0.0.1:" + dead);
            try (RegistryServer reg2 =
                    new RegistryServer("127.0.0.1", 0, "tiny", withDead, Duration.ofSeconds(30), null)) {
                Processes.Run bad =
                        Processes.run(120, "fanout", "--registry-url", reg2.url(), "--max-tokens", "4", "--json");
                assertEquals(1, bad.exit());
                assertEquals(5, bad.out().lines().filter(l -> l.startsWith("{")).count(), bad.out());
                assertTrue(bad.err().contains("FAILED backends=[127.0.0.1:" + dead + "]"), bad.err());
            }
        }
    }
}
