package dev.rolloutlab.commands;

import static org.junit.jupiter.api.Assertions.*;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.SimpleFileServer;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.TestModels;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The official JBang (jbang-cli, the version pinned in scripts/jbang.version, as ./jbang fetches it), with an empty
 * local Maven repository and an empty JBang cache: from this clone, from a catalog added by URL, and as an installed
 * app.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StockJbangTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    Path jbangJar, jbangDir, repo, work;
    String catalogBefore;

    @org.junit.jupiter.api.AfterAll
    void theProjectsCatalogIsUntouchedAndTheScratchFolderGone() throws IOException {
        assertEquals(
                catalogBefore,
                Files.readString(ROOT.resolve("jbang-catalog.json")),
                "no test may rewrite the project's catalog");
        try (var s = Files.walk(work)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @BeforeAll
    void officialJbangWithNothingInstalled() throws Exception {
        String version = Files.readString(ROOT.resolve("scripts/jbang.version")).trim();
        // ./jbang fetches exactly this artifact from Maven Central (dev.jbang:jbang-cli:<version>:all); reuse it
        Run fetch = run(ROOT, 600, List.of(ROOT.resolve("jbang").toString(), "version"));
        assertEquals(0, fetch.exit, fetch.out);
        jbangJar = Path.of(System.getProperty("user.home"), ".rollout-lab", "jbang-" + version, "jbang.jar");
        assertTrue(Files.exists(jbangJar), jbangJar.toString());
        // outside the checkout: JBang's catalog commands write to the nearest jbang-catalog.json above the working
        // folder
        work = Files.createTempDirectory(
                Path.of(System.getenv().getOrDefault("TMPDIR", "/tmp")), "rollout-lab-stock-jbang");
        catalogBefore = Files.readString(ROOT.resolve("jbang-catalog.json"));
        jbangDir = Files.createDirectories(work.resolve("jbang-home"));
        repo = Files.createDirectories(work.resolve("m2"));
        // installed the ordinary way: the launcher in $JBANG_DIR/bin, on the PATH (installed apps call `jbang`)
        Path bin = Files.createDirectories(jbangDir.resolve("bin"));
        Files.copy(ROOT.resolve("tests/bin/stock-jbang"), bin.resolve("jbang"));
        assertTrue(bin.resolve("jbang").toFile().setExecutable(true));
        String jdk = ProcessHandle.current()
                .info()
                .command()
                .map(c -> Path.of(c).getParent().getParent().toString())
                .orElseThrow();
        Run link = jbang(work, 120, "jdk", "install", "25", jdk); // the local JDK, not a download
        assertEquals(0, link.exit, link.out);
    }

    record Run(int exit, String out) {}

    Run jbang(Path dir, long timeoutSec, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(jbangDir.resolve("bin/jbang").toString()));
        cmd.addAll(List.of(args));
        return run(dir, timeoutSec, cmd);
    }

    Run run(Path dir, long timeoutSec, List<String> cmd) throws Exception {
        Path log = Files.createTempFile(Path.of("target", "tmp").toAbsolutePath(), "jbang", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        if (jbangJar != null) {
            pb.environment().put("JBANG_JAR", jbangJar.toString());
            pb.environment().put("JBANG_DIR", jbangDir.toString());
            pb.environment().put("JBANG_REPO", repo.toString());
            pb.environment().put("PATH", jbangDir.resolve("bin") + File.pathSeparator + System.getenv("PATH"));
        }
        pb.environment()
                .put(
                        "JAVA_HOME",
                        ProcessHandle.current()
                                .info()
                                .command()
                                .map(c -> Path.of(c).getParent().getParent().toString())
                                .orElseThrow());
        Process p = pb.start();
        boolean done = p.waitFor(timeoutSec, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly();
        String out = Files.readString(log);
        assertTrue(done, "timed out: " + cmd + "\n" + out);
        return new Run(p.exitValue(), out);
    }

    @Test
    void everyAliasFromTheCloneAndRealRunsStartingFromTheCacheTheSecondTime() throws Exception {
        for (String a : CatalogTest.ALIASES.stream().sorted().toList()) {
            Run r = jbang(ROOT, 600, a + "@.", "--help");
            assertEquals(0, r.exit, a + ": " + r.out);
            assertTrue(r.out.contains("Usage: " + a), a + ": " + r.out);
        }
        Path out = work.resolve("serve-validate");
        Run serve =
                jbang(ROOT, 300, "serve@.", "--shape", "tiny", "--num-servers", "2", "--base-port", "0", "--validate");
        assertEquals(0, serve.exit, serve.out);
        assertTrue(serve.out.contains("DONE: servers=2"), serve.out);
        // a second run starts from JBang's cache: the compiled jar is reused, not rebuilt
        Path jar = cachedJar("Serve.java");
        FileTime built = Files.getLastModifiedTime(jar);
        Run again = jbang(ROOT, 300, "serve@.", "--help");
        assertEquals(0, again.exit, again.out);
        assertEquals(
                built, Files.getLastModifiedTime(cachedJar("Serve.java")), "the second run reused the cached build");
        // fanout and bench against a running server, without --model: they ask its /v1/models
        try (var g = ServerGroup.start(
                ServerGroup.Spec.builder(TestModels.tiny()).ports(List.of(0, 0)).build())) {
            Run fanout = jbang(ROOT, 300, "fanout@.", "--backends", String.join(",", g.urls()), "--max-tokens", "4");
            assertEquals(0, fanout.exit, fanout.out);
            assertEquals(
                    2,
                    fanout.out
                            .lines()
                            .filter(l -> l.startsWith("RESP backend=") && l.contains("status=200"))
                            .count(),
                    fanout.out);
            Run bench = jbang(
                    ROOT,
                    300,
                    "bench@.",
                    "--target",
                    g.urls().get(0),
                    "--concurrency",
                    "2",
                    "--num-prompts",
                    "6",
                    "--max-tokens",
                    "4",
                    "--out",
                    out.resolve("bench").toString());
            assertEquals(0, bench.exit, bench.out);
            assertTrue(
                    Files.readString(out.resolve("bench/run.json")).contains("\"model\" : \"tiny-llama-s0-f32\""),
                    Files.readString(out.resolve("bench/run.json")));
        }
        Run compare = jbang(
                ROOT,
                600,
                "compare@.",
                "--quick",
                "--topologies",
                "inproc,http1",
                "--strategies",
                "none",
                "--out",
                out.resolve("compare").toString());
        assertEquals(0, compare.exit, compare.out);
        assertTrue(Files.exists(out.resolve("compare/REPORT.md")));
    }

    @Test
    void aCatalogAddedByUrlResolvesFromItsLocationAndMavenCentralAlone() throws Exception {
        HttpServer files = SimpleFileServer.createFileServer(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), ROOT, SimpleFileServer.OutputLevel.NONE);
        files.start();
        try {
            String base = "http://127.0.0.1:" + files.getAddress().getPort() + "/";
            assertEquals(0, jbang(work, 60, "trust", "add", base).exit);
            Run add = jbang(work, 60, "catalog", "add", "--name", "rl", base + "jbang-catalog.json");
            assertEquals(0, add.exit, add.out);
            Run help = jbang(work, 600, "fanout@rl", "--help");
            assertEquals(0, help.exit, help.out);
            assertTrue(help.out.contains("Usage: fanout"), help.out);
            Run serve = jbang(
                    work, 600, "serve@rl", "--shape", "tiny", "--num-servers", "1", "--base-port", "0", "--validate");
            assertEquals(0, serve.exit, serve.out);
            assertTrue(serve.out.contains("DONE: servers=1"), serve.out);
        } finally {
            files.stop(0);
        }
    }

    /**
     * JBang 0.132.1 writes the catalog reference into the app as given, so the app names the checkout by its absolute
     * path.
     */
    @Test
    void anInstalledAppWorksFromAnotherFolder() throws Exception {
        Run install = jbang(ROOT, 600, "app", "install", "--force", "serve@" + ROOT);
        assertEquals(0, install.exit, install.out);
        Path bin = jbangDir.resolve("bin").resolve("serve");
        assertTrue(Files.isExecutable(bin), install.out);
        Path elsewhere = Files.createDirectories(work.resolve("elsewhere"));
        Run r = run(
                elsewhere,
                600,
                List.of(bin.toString(), "--shape", "tiny", "--num-servers", "1", "--base-port", "0", "--validate"));
        assertEquals(0, r.exit, r.out);
        assertTrue(r.out.contains("DONE: servers=1"), r.out);
    }

    Path cachedJar(String script) throws IOException {
        try (var s = Files.walk(jbangDir.resolve("cache").resolve("jars"))) {
            return s.filter(p -> p.getFileName().toString().equals(script.replace(".java", ".jar"))
                            && p.getParent().getFileName().toString().startsWith(script))
                    .findFirst()
                    .orElseThrow();
        }
    }
}
