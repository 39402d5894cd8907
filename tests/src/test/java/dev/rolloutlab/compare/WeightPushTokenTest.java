package dev.rolloutlab.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The freshness experiment's servers take the admin token that changes their weights from a file, never from their
 * command line (which every user of the machine can read), and the file is gone once they have started: after the first
 * start and after a restart alike.
 */
class WeightPushTokenTest {
    private static final String TOKEN = "freshness-admin-token-0123";

    @Test
    void theServersGetTheirAdminTokenFromAFileThatIsGoneOnceTheyAreUp() throws Exception {
        Path model = TestModels.tiny(), work = TestModels.tempDir("push-token");
        var http = OpenAiClient.http(8, Duration.ofSeconds(60));
        try (WeightPush push = new WeightPush(model, work, work, TOKEN, http, Ports.free(2), null).start("serve", 0)) {
            assertHeldOnlyByTheServers(push, work);
            push.apply(Strategy.RESTART, null, Safetensors.read(model.resolve("model.safetensors")), 1);
            assertHeldOnlyByTheServers(push, work);
        }
    }

    private static void assertHeldOnlyByTheServers(WeightPush push, Path work) {
        List<String> args = ProcessHandle.current()
                .descendants()
                .filter(ProcessHandle::isAlive)
                .flatMap(p -> arguments(p.pid()).stream())
                .toList();
        assertTrue(args.contains("--admin-token-file"), "serve started with its token in a file");
        assertTrue(args.stream().noneMatch(a -> a.contains(TOKEN)), "the token on a command line");
        assertEquals(List.of(), holding(work), "a file with the token outlived the start");
        for (String url : push.urls()) {
            var serve = new OpenAiClient(OpenAiClient.http(2, Duration.ofSeconds(10)), url, null, true);
            assertEquals(
                    200,
                    serve.getWith("/admin/reload_status", Map.of("X-Admin-Token", TOKEN))
                            .status(),
                    url);
            assertEquals(401, serve.get("/admin/reload_status").status(), url + " without the token");
        }
    }

    /** The files under {@code dir} that hold the token. */
    private static List<Path> holding(Path dir) {
        try (var files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> {
                        try {
                            return new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains(TOKEN);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    })
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A process's whole command line, as every user of the machine reads it ({@code ProcessHandle} cuts it short). */
    private static List<String> arguments(long pid) {
        try {
            return List.of(
                    Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        } catch (IOException e) {
            return List.of(); // it has exited
        }
    }
}
