package dev.rolloutlab.process;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A run killed outright (SIGKILL: the OOM killer, a lost session; no shutdown hook runs) leaves none of the servers and
 * balancers it started: each child JVM exits with the JVM that started it.
 */
class ExitWithParentTest {
    @Test
    void aKilledCompareLeavesNoServeOrLbBehind() throws Exception {
        Path out = TestModels.tempDir("killed-run").resolve("run");
        Process run = Processes.builder("compare", "--quick", "--topologies", "inproc,lb", "--out", out.toString())
                .redirectErrorStream(true)
                .redirectOutput(out.resolveSibling("compare.log").toFile())
                .start();
        try {
            assertTrue(
                    Await.until(() -> children(run).size() >= 2, Duration.ofSeconds(240)),
                    "serve and lb started: "
                            + run.descendants().map(ExitWithParentTest::line).toList());
            List<ProcessHandle> children = children(run);
            // every JVM of the run but its children: the launcher and the measuring JVM
            run.descendants().filter(h -> !children.contains(h)).forEach(ProcessHandle::destroyForcibly);
            run.destroyForcibly();
            for (ProcessHandle c : children)
                assertDoesNotThrow(
                        () -> c.onExit().get(60, TimeUnit.SECONDS), "still running after its parent died: " + alias(c));
        } finally {
            run.descendants().forEach(ProcessHandle::destroyForcibly);
            run.destroyForcibly();
        }
    }

    /** The run's serve and lb JVMs that are alive. */
    private static List<ProcessHandle> children(Process run) {
        return run.descendants()
                .filter(ProcessHandle::isAlive)
                .filter(h -> line(h).contains(ChildJvm.MAIN + " serve ") || line(h).contains(ChildJvm.MAIN + " lb "))
                .toList();
    }

    /** What it runs, without the JVM's flags and classpath. */
    private static String alias(ProcessHandle h) {
        String l = line(h);
        return l.substring(Math.max(0, l.indexOf(ChildJvm.MAIN)), Math.min(l.length(), l.indexOf(ChildJvm.MAIN) + 120));
    }

    /** The whole command line (ProcessHandle.Info cuts it short before the alias: the classpath is long). */
    private static String line(ProcessHandle h) {
        try {
            return Files.readString(Path.of("/proc", String.valueOf(h.pid()), "cmdline"))
                    .replace('\0', ' ');
        } catch (IOException e) {
            return "(ended)";
        }
    }
}
