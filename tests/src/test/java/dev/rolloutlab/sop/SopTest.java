package dev.rolloutlab.sop;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.commands.Main;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import picocli.CommandLine;

/**
 * Every SOP: its aliases and flags exist (for every step, local or remote), and its locally runnable steps run in order
 * in a fresh folder with free ports, each expected line found in the step's output. Background steps are stopped at the
 * end.
 */
class SopTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final Pattern ALIAS = Pattern.compile("\\./jbang\\s+([a-z-]+)@\\.(.*)");

    static List<Path> sops() throws Exception {
        try (Stream<Path> s = Files.list(ROOT.resolve("sop"))) {
            return s.filter(p -> p.toString().endsWith(".md")).sorted().toList();
        }
    }

    @Test
    void theRequiredSopsExistWithTheirSections() throws Exception {
        Set<String> names = new HashSet<>();
        for (Path p : sops()) names.add(p.getFileName().toString());
        for (String n : List.of(
                "compare-http-vs-inprocess.md",
                "local-4-ports-load-balancer.md",
                "multi-port-server.md",
                "weight-reload.md",
                "in-process-hot-update.md",
                "pod-2-hosts-8-servers.md",
                "scaling-rollouts.md",
                "notebook-analysis.md")) {
            assertTrue(names.contains(n), "missing sop/" + n);
        }
        for (Path p : sops()) {
            String text = Files.readString(p);
            for (String section :
                    List.of("# SOP:", "## Prerequisites", "## Steps", "## Troubleshooting", "## References")) {
                assertTrue(text.contains(section), p.getFileName() + " lacks " + section);
            }
            Sop sop = Sop.read(p);
            assertFalse(sop.steps().isEmpty(), p + " has no steps");
            for (Sop.Step s : sop.steps()) {
                assertEquals(
                        1,
                        s.command().lines().count(),
                        p.getFileName() + " step " + s.number() + " is not a one-liner: " + s.command());
                if (s.run().equals("remote"))
                    assertTrue(
                            s.attrs().containsKey("reason"),
                            p.getFileName() + " step " + s.number() + " is remote-only without a reason");
            }
        }
    }

    @Test
    void everyAliasAndFlagInEverySopExists() throws Exception {
        Map<String, Object> catalog =
                Json.MAPPER.readValue(Files.readString(ROOT.resolve("jbang-catalog.json")), Map.class);
        Set<String> aliases = ((Map<String, Object>) catalog.get("aliases")).keySet();
        for (Path p : sops()) {
            for (Sop.Step s : Sop.read(p).steps()) {
                Matcher m = ALIAS.matcher(s.command());
                if (!m.find()) continue;
                String where = p.getFileName() + " step " + s.number();
                assertTrue(aliases.contains(m.group(1)), where + ": unknown alias " + m.group(1));
                CommandLine cl = new CommandLine(Main.command(m.group(1)));
                List<String> words = shellWords(m.group(2).split("\\s*(\\||>|&&)\\s*")[0]);
                // walk subcommands, then check every --flag against the command it belongs to
                CommandLine cur = cl;
                for (String w : words) {
                    if (!w.startsWith("-") && cur.getSubcommands().containsKey(w))
                        cur = cur.getSubcommands().get(w);
                }
                for (String w : words) {
                    if (!w.startsWith("--")) continue;
                    String flag = w.contains("=") ? w.substring(0, w.indexOf('=')) : w;
                    boolean known = cur.getCommandSpec().findOption(flag) != null
                            || cl.getCommandSpec().findOption(flag) != null
                            || (flag.startsWith("--no-")
                                    && cur.getCommandSpec().findOption("--" + flag.substring(5)) != null);
                    assertTrue(known, where + ": " + m.group(1) + " has no flag " + flag);
                }
            }
        }
    }

    static List<String> shellWords(String s) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("\"([^\"]*)\"|'([^']*)'|(\\S+)").matcher(s);
        while (m.find()) out.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3));
        return out;
    }

    @TestFactory
    Stream<DynamicTest> localStepsRunAndPrintWhatTheSopSays() throws Exception {
        return sops().stream().map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> runLocally(p)));
    }

    static void runLocally(Path file) throws Exception {
        Sop sop = Sop.read(file);
        if (sop.steps().stream().noneMatch(s -> !s.run().equals("remote"))) return;
        Path dir = Files.createTempDirectory(Path.of("target", "tmp").toAbsolutePath(), "sop-");
        for (String link :
                List.of("jbang", "jbang-catalog.json", "scripts", "notebooks", "mvnw", ".mvn", "pom.xml", "lib")) {
            Files.createSymbolicLink(dir.resolve(link), ROOT.resolve(link));
        }
        Map<String, String> env = new LinkedHashMap<>();
        // SOPs use $PORT1..$PORT1+7 as ranges: give every variable its own block of 8 free ports, outside the
        // ephemeral range so later client connections cannot take them
        List<Integer> bases = Ports.freeBlocks(12, 8);
        for (int i = 1; i <= 9; i++) env.put("PORT" + i, String.valueOf(bases.get(i - 1)));
        env.put("LB_PORT", String.valueOf(bases.get(9)));
        env.put("REGISTRY_PORT", String.valueOf(bases.get(10)));
        env.put("AGENT_PORT", String.valueOf(bases.get(11)));
        env.put("TMP", dir.resolve("tmp").toString());
        Files.createDirectories(dir.resolve("tmp"));
        List<Process> background = new ArrayList<>();
        try {
            for (Sop.Step s : sop.steps()) {
                if (s.run().equals("remote")) continue;
                String where = file.getFileName() + " step " + s.number() + " (" + s.command() + ")";
                Path log = dir.resolve("step-" + s.number() + ".log");
                ProcessBuilder pb = new ProcessBuilder("bash", "-c", s.command())
                        .directory(dir.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile());
                pb.environment().putAll(env);
                Process proc = pb.start();
                if (s.run().equals("background")) {
                    background.add(proc);
                    Pattern ready = Pattern.compile(s.attrs().getOrDefault("ready", "READY"));
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
                    while (!ready.matcher(Files.readString(log)).find()) {
                        assertTrue(proc.isAlive(), where + " exited early:\n" + Files.readString(log));
                        assertTrue(
                                System.nanoTime() < deadline,
                                where + " never printed " + ready + ":\n" + Files.readString(log));
                        Thread.sleep(200);
                    }
                } else {
                    assertTrue(
                            proc.waitFor(Long.parseLong(s.attrs().getOrDefault("timeout", "300")), TimeUnit.SECONDS),
                            where + " timed out");
                    int want = Integer.parseInt(s.attrs().getOrDefault("exit", "0"));
                    assertEquals(want, proc.exitValue(), where + " exit code; output:\n" + Files.readString(log));
                }
                String out = Files.readString(log);
                for (String e : s.expect()) {
                    assertTrue(
                            Pattern.compile(e, Pattern.MULTILINE).matcher(out).find(),
                            where + ": expected /" + e + "/ in:\n" + out);
                }
            }
        } finally {
            for (Process b : background) {
                b.descendants().forEach(ProcessHandle::destroy);
                b.destroy();
                if (!b.waitFor(15, TimeUnit.SECONDS)) {
                    b.descendants().forEach(ProcessHandle::destroyForcibly);
                    b.destroyForcibly();
                }
            }
        }
    }
}
