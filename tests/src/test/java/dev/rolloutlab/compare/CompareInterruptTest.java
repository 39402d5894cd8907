package dev.rolloutlab.compare;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.testing.Logs;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Stopping {@code compare} mid-run: it exits within 10 s and keeps what it measured, with a REPORT.md marked
 * incomplete. The test sends SIGTERM, which {@code compare} handles exactly as Ctrl-C's SIGINT: a JVM started from a
 * non-interactive shell may inherit SIGINT as ignored, and then no handler can be installed for it.
 */
class CompareInterruptTest {

    @Test
    void aSignalMidRunStopsWithinTenSecondsAndWritesAnIncompleteReport() throws Exception {
        Path dir = TestModels.tempDir("compare-int");
        Path out = dir.resolve("run"), log = dir.resolve("compare.err");
        Process p = Processes.builder("compare", "--quick", "--out", out.toString())
                .redirectError(log.toFile())
                .redirectOutput(dir.resolve("compare.out").toFile())
                .start();
        try {
            // the event: the first HTTP leg has been measured, so there is something to keep
            assertTrue(
                    Await.until(
                            () -> Logs.read(log)
                                    .lines()
                                    .anyMatch(l -> l.trim().matches("round \\d+ http1 +keep-alive .*")),
                            Duration.ofSeconds(120)),
                    Logs.read(log));
            long t0 = System.nanoTime();
            new ProcessBuilder("kill", "-TERM", String.valueOf(p.pid())).start().waitFor();
            assertTrue(p.waitFor(10, TimeUnit.SECONDS), "still running 10 s after the signal:\n" + Logs.read(log));
            double sec = (System.nanoTime() - t0) / 1e9;
            assertEquals(130, p.exitValue(), Logs.read(log));
            assertFalse(Logs.read(log).contains("Shutdown in progress"), Logs.read(log));
            String report = Files.readString(out.resolve("REPORT.md"));
            assertTrue(report.contains("This run is incomplete"), report);
            assertTrue(Files.readString(out.resolve("summary.csv")).contains("http1"), "the measured legs were kept");
            assertTrue(
                    Files.readString(out.resolve("run.json")).contains("\"incomplete\" : true"),
                    Files.readString(out.resolve("run.json")));
            System.err.printf("compare stopped %.1f s after the signal%n", sec);
        } finally {
            p.destroyForcibly();
        }
    }
}
