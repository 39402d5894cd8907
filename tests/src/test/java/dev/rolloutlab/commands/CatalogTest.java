package dev.rolloutlab.commands;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The JBang catalog: the aliases DESIGN names, each a thin script that answers --help through ./jbang. */
class CatalogTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final Set<String> ALIASES = Set.of(
            "model",
            "generate",
            "serve",
            "weights",
            "agent",
            "commander",
            "launch",
            "lb",
            "fanout",
            "bench",
            "compare",
            "report",
            "kernel",
            "sim");

    static JsonNode catalog() throws Exception {
        return Json.parse(Files.readString(ROOT.resolve("jbang-catalog.json")));
    }

    @Test
    void everyAliasHasADescriptionAndAThinScript() throws Exception {
        JsonNode aliases = catalog().path("aliases");
        Set<String> names = new TreeSet<>();
        aliases.fieldNames().forEachRemaining(names::add);
        assertEquals(new TreeSet<>(ALIASES), names);
        for (String a : names) {
            JsonNode e = aliases.get(a);
            assertFalse(e.path("description").asText().isBlank(), a + " needs a description");
            Path script = ROOT.resolve(e.path("script-ref").asText());
            assertTrue(Files.exists(script), a + ": " + script);
            String src = Files.readString(script);
            assertTrue(
                    src.contains("//SOURCES LibSources.java"),
                    a + " gets the library as sources, so stock JBang needs nothing installed");
            assertTrue(src.lines().count() < 25, a + ": scripts stay thin; logic lives in lib/");
            assertNotNull(Main.command(a), a + " is known to dev.rolloutlab.commands.Main");
        }
    }

    @Test
    void theLibrarysSourceListIsCurrent() throws Exception {
        Process p = new ProcessBuilder(
                        ROOT.resolve("tests/bin/update-lib-sources").toString(), "--check")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
    }

    /**
     * A first run compiles the library from source; the scripts share those sources, so one alias on an empty JBang
     * cache shows what every alias's first run prints: besides JBang's own lines, only the JVM's incubator line.
     */
    @Test
    void aFirstRunPrintsNoCompilerOrPicocliWarnings() throws Exception {
        Path cache = Files.createTempDirectory(Path.of("target", "tmp").toAbsolutePath(), "jbang-cache");
        Path log = cache.resolveSibling(cache.getFileName() + ".log");
        ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("jbang").toString(), "compare@.", "--help")
                .directory(ROOT.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("JBANG_CACHE_DIR", cache.toString());
        Process p = pb.start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "compare --help on an empty cache timed out");
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("Building jar"), "the cache was empty, so the sources were compiled: " + out);
        List<String> noise = out.lines()
                .filter(l -> !l.startsWith("[jbang]") && !l.contains("Using incubator modules"))
                .filter(l -> l.toLowerCase(Locale.ROOT).contains("warn") || l.startsWith("Note:"))
                .toList();
        assertEquals(List.of(), noise, out);
    }

    @TestFactory
    Stream<DynamicTest> everyAliasAnswersHelpThroughJbang() {
        return ALIASES.stream()
                .sorted()
                .map(a -> DynamicTest.dynamicTest(a, () -> {
                    Path log = Files.createTempFile(Path.of("target", "tmp").toAbsolutePath(), "help-" + a, ".log");
                    ProcessBuilder pb = new ProcessBuilder(ROOT.resolve("jbang").toString(), a + "@.", "--help")
                            .directory(ROOT.toFile())
                            .redirectErrorStream(true)
                            .redirectOutput(log.toFile());
                    Process p = pb.start();
                    assertTrue(p.waitFor(240, TimeUnit.SECONDS), a + " --help timed out");
                    String out = Files.readString(log);
                    assertEquals(0, p.exitValue(), out);
                    assertTrue(out.contains("Usage: " + a), a + ": " + out);
                    assertTrue(out.contains("-h, --help"), out);
                }));
    }
}
