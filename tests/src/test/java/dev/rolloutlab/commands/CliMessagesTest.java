package dev.rolloutlab.commands;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A careless user's mistakes each get one line that says what was wrong and what to do, never an exception's class
 * name.
 */
@Tag("fast") // the edit loop: tests/run --fast
class CliMessagesTest {

    /** stderr without the JVM's own warnings about incubator modules and Unsafe. */
    static List<String> errorLines(Processes.Run r) {
        return r.err()
                .lines()
                .filter(l -> !l.startsWith("WARNING:") && !l.isBlank())
                .toList();
    }

    static void assertOneReadableLine(Processes.Run r, String mustContain) {
        assertNotEquals(0, r.exit(), r.err());
        List<String> lines = errorLines(r);
        assertEquals(1, lines.size(), "one line, got:\n" + r.err());
        String line = lines.get(0);
        assertTrue(line.startsWith("error: "), line);
        assertTrue(line.contains(mustContain), line);
        assertFalse(line.matches(".*\\b[A-Za-z.]*(Exception|Error)\\b.*"), "no exception class names: " + line);
        assertFalse(line.contains("For input string"), line);
    }

    @Test
    void badOutputFolderGoodputAndUnreachableBackend() {
        assertOneReadableLine(
                Processes.run(
                        60,
                        "bench",
                        "--target",
                        "http://127.0.0.1:1",
                        "--model",
                        "m",
                        "--concurrency",
                        "1",
                        "--num-prompts",
                        "1",
                        "--out",
                        "/etc/passwd"),
                "--out /etc/passwd is a file");
        assertOneReadableLine(
                Processes.run(
                        60,
                        "bench",
                        "--target",
                        "http://127.0.0.1:1",
                        "--model",
                        "m",
                        "--concurrency",
                        "1",
                        "--num-prompts",
                        "1",
                        "--goodput",
                        "ttft:abc"),
                "'abc' is not a number");
        assertOneReadableLine(Processes.run(60, "fanout", "--backends", "127.0.0.1:1"), "connection refused");
        assertOneReadableLine(Processes.run(60, "compare", "--no-stream"), "--stream applies to --workload");
        // refused before any namespace or simulated host starts
        assertOneReadableLine(
                Processes.run(60, "compare", "--workload", "groups", "--fleet", "sim:2x2"),
                "runs on compare's own servers: drop --fleet");
    }

    @Test
    void aPortInUseIsOneLine() throws IOException {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            String port = String.valueOf(taken.getLocalPort());
            assertOneReadableLine(
                    Processes.run(
                            120,
                            "serve",
                            "--model",
                            TestModels.tiny().toString(),
                            "--num-servers",
                            "1",
                            "--base-port",
                            port),
                    "in use");
            assertOneReadableLine(
                    Processes.run(60, "lb", "--listen-port", port, "--backends", "127.0.0.1:1"), "in use");
            Path token = TestModels.tempDir("cli-agent").resolve("t");
            Files.writeString(token, "token-0123456789");
            assertOneReadableLine(
                    Processes.run(60, "agent", "--port", port, "--token-file", token.toString()), "in use");
        }
    }

    @Test
    void anEmptyApiKeyIsRefusedNotServedWithoutAuthentication() throws IOException {
        assertOneReadableLine(
                Processes.run(
                        120,
                        "serve",
                        "--model",
                        TestModels.tiny().toString(),
                        "--num-servers",
                        "1",
                        "--base-port",
                        "0",
                        "--api-key="),
                "--api-key is empty");
        Path empty = TestModels.tempDir("cli-key").resolve("key");
        Files.writeString(empty, "\n");
        assertOneReadableLine(
                Processes.run(
                        60,
                        "lb",
                        "--listen-port",
                        "0",
                        "--backends",
                        "127.0.0.1:1",
                        "--api-key-file",
                        empty.toString()),
                "is empty");
    }
}
