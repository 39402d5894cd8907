package dev.rolloutlab.results;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where a run's numbers came from, for run.json: the commit of the checkout and whether it had uncommitted changes, the
 * exact command line, and the JVM's flags. A run started from a catalog URL has no checkout; it says so.
 */
final class Provenance {
    private Provenance() {}

    static Map<String, Object> current() {
        Map<String, Object> m = new LinkedHashMap<>();
        Path checkout = checkout();
        if (checkout == null) {
            m.put("git_commit", "unknown (not run from a checkout)");
        } else {
            m.put("git_commit", git(checkout, "rev-parse", "HEAD"));
            String status = git(checkout, "status", "--porcelain", "--untracked-files=no");
            m.put("git_dirty", status == null ? null : !status.isBlank());
        }
        m.put("command_line", System.getProperty("sun.java.command", ""));
        m.put("process", ProcessHandle.current().info().commandLine().orElse(""));
        m.put("jvm_flags", ManagementFactory.getRuntimeMXBean().getInputArguments());
        return m;
    }

    private static Path checkout() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve(".git")) && Files.exists(p.resolve("jbang-catalog.json"))) return p;
        }
        return null;
    }

    /** One git answer, trimmed; null when git is missing or fails (the run goes on without it). */
    private static String git(Path dir, String... args) {
        try {
            String[] cmd = new String[args.length + 3];
            cmd[0] = "git";
            cmd[1] = "-C";
            cmd[2] = dir.toString();
            System.arraycopy(args, 0, cmd, 3, args.length);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
