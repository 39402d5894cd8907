package dev.rolloutlab;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The arrows of DESIGN §1, read from the sources: {@code commands → features → (openai, http1, engine, util)}, no
 * cycle, the engine free of our other packages, nothing below the command layer importing it, and every long file
 * reviewed.
 */
class ArchitectureTest {
    static final Path SRC = Path.of("src/main/java/dev/rolloutlab");

    /** What each package may use. A new package, or a new arrow, is a decision: make it here, on purpose. */
    static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("util", Set.of()),
            Map.entry("engine", Set.of()),
            Map.entry("http1", Set.of()),
            Map.entry("results", Set.of("openai", "util")),
            Map.entry("process", Set.of("util")),
            Map.entry("openai", Set.of("engine", "http1", "util")),
            Map.entry("server", Set.of("engine", "openai", "util")),
            Map.entry("cluster", Set.of("engine", "openai", "http1", "process", "util")),
            Map.entry("bench", Set.of("engine", "openai", "results", "util")),
            Map.entry("lb", Set.of("cluster", "http1", "util")),
            Map.entry("compare", Set.of("bench", "cluster", "engine", "openai", "process", "results", "util")),
            Map.entry("report", Set.of("bench", "results", "util")),
            Map.entry(
                    "sim",
                    Set.of("bench", "compare", "engine", "lb", "openai", "process", "results", "server", "util")),
            Map.entry(
                    "commands",
                    Set.of(
                            "bench", "cluster", "compare", "engine", "http1", "lb", "openai", "process", "report",
                            "results", "server", "sim", "util")));

    static final Pattern REF = Pattern.compile("\\bdev\\.rolloutlab\\.([a-z0-9]+)\\.");

    /** Source text without comments and string literals, so a name in a doc or a class name in a string is no arrow. */
    static String code(String src) {
        StringBuilder out = new StringBuilder(src.length());
        int i = 0, n = src.length();
        while (i < n) {
            char c = src.charAt(i);
            if (c == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
                int end = src.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
            } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
                int end = src.indexOf('\n', i);
                i = end < 0 ? n : end;
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && src.charAt(j) != c) j += src.charAt(j) == '\\' ? 2 : 1;
                out.append(c).append(c);
                i = j + 1;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    static Map<String, Set<String>> graph() throws IOException {
        Map<String, Set<String>> g = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SRC)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = SRC.relativize(f).getName(0).toString();
                Set<String> deps = g.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = REF.matcher(code(Files.readString(f)));
                while (m.find()) if (!m.group(1).equals(pkg)) deps.add(m.group(1));
            }
        }
        return g;
    }

    @Test
    void everyArrowIsAllowed() throws IOException {
        List<String> wrong = new ArrayList<>();
        graph().forEach((pkg, deps) -> {
            Set<String> ok = ALLOWED.get(pkg);
            if (ok == null) wrong.add(pkg + " is a new package: add it to ALLOWED with the arrows it may have");
            else for (String d : deps) if (!ok.contains(d)) wrong.add(pkg + " -> " + d);
        });
        assertEquals(List.of(), wrong);
    }

    @Test
    void noCycleBetweenPackages() throws IOException {
        Map<String, Set<String>> g = graph();
        for (String start : g.keySet()) {
            // depth-first from each package: reaching it again is a cycle
            List<String> stack = new ArrayList<>(g.get(start));
            Set<String> seen = new TreeSet<>();
            while (!stack.isEmpty()) {
                String p = stack.remove(stack.size() - 1);
                assertNotEquals(start, p, "cycle through " + start + ": " + g);
                if (seen.add(p)) stack.addAll(g.getOrDefault(p, Set.of()));
            }
        }
    }

    /** The engine's layers, each using only those after it: scheduler, model, tokenizer, checkpoint files, kernels. */
    static final Map<String, Set<String>> ENGINE_LAYERS = Map.of(
            "engine", Set.of("engine.model", "engine.tokenizer", "engine.checkpoint", "engine.kernels"),
            "engine.model", Set.of("engine.tokenizer", "engine.checkpoint", "engine.kernels"),
            "engine.tokenizer", Set.of("engine.checkpoint"),
            "engine.checkpoint", Set.of("engine.kernels"),
            "engine.kernels", Set.of());

    static final Pattern ENGINE_REF = Pattern.compile("\\bdev\\.rolloutlab\\.(engine(?:\\.[a-z0-9]+)?)\\.[A-Z]");

    @Test
    void theEngineIsLayered() throws IOException {
        List<String> wrong = new ArrayList<>();
        Path engine = SRC.resolve("engine");
        try (Stream<Path> files = Files.walk(engine)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = SRC.relativize(f.getParent()).toString().replace('/', '.');
                Set<String> ok = ENGINE_LAYERS.get(pkg);
                if (ok == null) {
                    wrong.add(pkg + " is a new engine layer: add it to ENGINE_LAYERS with the layers it may use");
                    continue;
                }
                Matcher m = ENGINE_REF.matcher(code(Files.readString(f)));
                while (m.find()) {
                    String used = m.group(1);
                    if (!used.equals(pkg) && !ok.contains(used))
                        wrong.add(f.getFileName() + ": " + pkg + " -> " + used);
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    /**
     * Files past {@link #REVIEW_LINES} formatted lines, each with what a review found: one concept that reads whole, or
     * the split it is waiting for. A file that grows past the mark without an entry fails, so the review happens.
     */
    static final int REVIEW_LINES = 400;

    static final Map<String, String> REVIEWED = Map.ofEntries(
            Map.entry(
                    "lb/Relay.java", "one request's relay to a backend: head, body, retry and the response, one state"),
            Map.entry(
                    "compare/CompareConfig.java", "one record, its checks and its builder; the builder is most of it"),
            Map.entry(
                    "compare/Compare.java",
                    "one run: its rounds, its sweep and its results, and the few steps by which another run drives it "
                            + "as its zero-compute control (ZeroComputeControl holds that control's slots)"),
            Map.entry(
                    "commands/BenchCommand.java",
                    "one command: its flags are most of it, then their checks and one run"));

    @Test
    void everyPackageSaysWhatItOwnsAndEveryLongFileWasReviewed() throws IOException {
        List<String> problems = new ArrayList<>();
        try (Stream<Path> dirs = Files.walk(SRC)) {
            for (Path d :
                    dirs.filter(p -> Files.isDirectory(p) && !p.equals(SRC)).toList()) {
                if (!Files.exists(d.resolve("package-info.java")))
                    problems.add(SRC.relativize(d) + " has no package-info.java");
            }
        }
        try (Stream<Path> files = Files.walk(SRC)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                long lines = Files.readAllLines(f).size();
                String name = SRC.relativize(f).toString();
                if (lines > REVIEW_LINES && !REVIEWED.containsKey(name)) {
                    problems.add(
                            name + " has " + lines + " lines: split it by concept, or say in REVIEWED why it is one");
                }
            }
        }
        assertEquals(List.of(), problems);
    }
}
