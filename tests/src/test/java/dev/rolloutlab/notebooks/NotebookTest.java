package dev.rolloutlab.notebooks;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.report.KernelInstaller;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.Json;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every notebook runs headless on the real Java kernel (installed by our own installer) and produces images. */
class NotebookTest {
    static Path jupyterData;
    static Path kernelDir;
    static Path results;

    @BeforeAll
    static void installKernel() throws Exception {
        assertTrue(
                Files.isExecutable(Path.of("/usr/bin/jupyter")),
                "needs Debian's jupyter (tests/bin/provision installs it)");
        String cp = Files.readString(Path.of("target/runtime.cp")).trim()
                + File.pathSeparator
                + Files.readString(Path.of("target/kernel.cp")).trim();
        String libClasses =
                Path.of("../lib/target/classes").toAbsolutePath().normalize().toString();
        jupyterData = TestModels.tempDir("jupyter");
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        Path dir = kernelDir = KernelInstaller.install(
                "rollout-lab-test", libClasses + File.pathSeparator + cp, jupyterData.resolve("kernels"), javaBin);
        JsonNode k = Json.parse(Files.readString(dir.resolve("kernel.json")));
        assertTrue(k.path("argv").toString().contains("org.rapaio.jupyter.kernel.MainApp"));
        assertTrue(
                Files.exists(dir.resolve("patch/org/rapaio/jupyter/kernel/channels/LoopThread.class")),
                "start-up race fix compiled");
        // the notebooks read the newest run under ROLLOUT_LAB_RESULTS: give them the stored quick-run fixture
        results = TestModels.tempDir("nb-results");
        Path run = results.resolve("20260101-000000-compare");
        Files.createDirectories(run);
        try (Stream<Path> s = Files.list(Path.of("src/test/resources/fixtures/results-quick"))) {
            for (Path p : s.toList()) Files.copy(p, run.resolve(p.getFileName()));
        }
        // and a stored quick sessions run (compare --quick --workload sessions) for the shared-prefix notebook
        Path sessions = Files.createDirectories(results.resolve("20260101-000000-compare-sessions"));
        try (Stream<Path> s = Files.list(Path.of("src/test/resources/fixtures/results-sessions"))) {
            for (Path p : s.toList()) Files.copy(p, sessions.resolve(p.getFileName()));
        }
    }

    /** rapaio binds the shell socket before its handlers exist; the patched loop must outlive a body that throws. */
    @Test
    void patchedKernelLoopSurvivesAFailingBody() throws Exception {
        String rapaio = Arrays.stream(
                        Files.readString(Path.of("target/kernel.cp")).trim().split(File.pathSeparator))
                .filter(e -> Path.of(e).getFileName().toString().startsWith(KernelInstaller.RAPAIO))
                .findFirst()
                .orElseThrow();
        URL[] urls = {
            kernelDir.resolve("patch").toUri().toURL(), Path.of(rapaio).toUri().toURL()
        };
        try (URLClassLoader loader = new URLClassLoader(urls, ClassLoader.getPlatformClassLoader())) {
            Class<?> loop = loader.loadClass("org.rapaio.jupyter.kernel.channels.LoopThread");
            assertEquals(
                    kernelDir.resolve("patch").toUri().toURL().toString(),
                    loop.getProtectionDomain().getCodeSource().getLocation().toString(),
                    "the patch wins over the jar");
            AtomicInteger calls = new AtomicInteger();
            Runnable body = () -> {
                if (calls.incrementAndGet() == 1)
                    throw new NullPointerException("handlers is null (simulated start-up window)");
            };
            Thread t = (Thread) loop.getConstructor(String.class, long.class, Runnable.class)
                    .newInstance("Shell-test", 1L, body);
            t.start();
            assertTrue(
                    Await.until(() -> calls.get() >= 3, Duration.ofSeconds(5)),
                    "loop stopped after the failing body: " + calls.get() + " calls");
            assertTrue(t.isAlive());
            loop.getMethod("shutdown").invoke(t);
            t.join(2000);
            assertFalse(t.isAlive(), "shutdown stops the loop");
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "01-http-vs-inprocess.ipynb",
                "02-fanout-scaling.ipynb",
                "03-weight-freshness.ipynb",
                "04-sessions-and-groups.ipynb"
            })
    void notebookRunsHeadlessAndProducesImages(String name) throws Exception {
        Path src = Path.of("../notebooks", name).toAbsolutePath().normalize();
        Path out = TestModels.tempDir("nb-out");
        ProcessBuilder pb = new ProcessBuilder(
                        "/usr/bin/jupyter",
                        "nbconvert",
                        "--to",
                        "notebook",
                        "--execute",
                        "--ExecutePreprocessor.kernel_name=rollout-lab-test",
                        "--ExecutePreprocessor.timeout=300",
                        "--ExecutePreprocessor.startup_timeout=120",
                        "--output-dir",
                        out.toString(),
                        src.toString())
                .redirectErrorStream(true)
                .directory(src.getParent().toFile());
        pb.environment().put("JUPYTER_DATA_DIR", jupyterData.toString());
        pb.environment().put("JUPYTER_PATH", jupyterData.toString());
        pb.environment().put("ROLLOUT_LAB_RESULTS", results.toString());
        Process p = pb.start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(400, TimeUnit.SECONDS), "nbconvert timed out");
        assertEquals(0, p.exitValue(), log);
        JsonNode nb = Json.parse(Files.readString(out.resolve(name)));
        int images = 0;
        for (JsonNode cell : nb.path("cells")) {
            for (JsonNode o : cell.path("outputs")) {
                assertNotEquals(
                        "error", o.path("output_type").asText(), "cell failed: " + cell.path("source") + " -> " + o);
                if (o.path("data").has("image/png")) images++;
            }
        }
        assertTrue(images >= 1, name + " produced no image output");
        String all = nb.toString();
        assertTrue(all.contains("20260101-000000-compare"), "the notebook read the given results folder");
    }
}
