package dev.rolloutlab.process;

import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.ExitWithParent;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One of our own tools ({@code serve}, {@code lb}, {@code agent}, ...) running in a child JVM with this JVM's
 * classpath, so a topology under test lives in its own process. Closing it sends SIGTERM, then SIGKILL after a grace
 * period. Each child exits with the JVM that started it ({@link ExitWithParent}).
 */
public final class ChildJvm implements AutoCloseable {
    /** The entry point of every alias; named, not imported, so process management stays below the command layer. */
    public static final String MAIN = "dev.rolloutlab.commands.Main";

    private final Process process;
    private final Path log;
    private final String alias;
    private final List<String> jvmFlags;

    private ChildJvm(Process process, Path log, String alias, List<String> jvmFlags) {
        this.process = process;
        this.log = log;
        this.alias = alias;
        this.jvmFlags = jvmFlags;
    }

    /** The argv that runs {@code alias args…} in a child JVM with this JVM's classpath and module flags. */
    public static List<String> command(String alias, List<String> args) {
        return command(List.of(), alias, args);
    }

    /** The same, with extra JVM flags (e.g. a small heap for a simulated host). */
    public static List<String> command(List<String> jvmFlags, String alias, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(jvmFlags);
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            cmd.add("--add-modules");
            cmd.add("jdk.incubator.vector");
        }
        cmd.add("-Djava.awt.headless=true");
        cmd.add("-XX:+UseSerialGC");
        // arrays of a megabyte and more (weights, pushed bodies, KV pools) live until the next update or for good:
        // allocated young, each update's 200 MB was copied through the survivor spaces into a growing old generation
        // in pauses of 0.3-1.9 s, 3-4 s of a push's 4 s propagation on the default model; requests' objects are far
        // smaller and stay young
        cmd.add("-XX:PretenureSizeThreshold=1m");
        // Tablesaw's classpath scan calls sun.misc.Unsafe; a child that writes a report would warn on JDK 23+
        if (Runtime.version().feature() >= 23) cmd.add("--sun-misc-unsafe-memory-access=allow");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(MAIN);
        cmd.add(alias);
        cmd.addAll(args);
        return cmd;
    }

    public static ChildJvm start(String alias, List<String> args, Path log) {
        return start(List.of(), List.of(), alias, args, log);
    }

    /**
     * Starts {@code prefix… java jvmFlags… Main alias args…}; a prefix such as {@code ip netns exec NS} runs it
     * elsewhere.
     */
    public static ChildJvm start(
            List<String> prefix, List<String> jvmFlags, String alias, List<String> args, Path log) {
        List<String> cmd = new ArrayList<>(prefix);
        List<String> flags = new ArrayList<>(jvmFlags);
        flags.add(ExitWithParent.flag());
        List<String> java = command(flags, alias, args);
        cmd.addAll(java);
        try {
            Files.createDirectories(log.toAbsolutePath().getParent());
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            return new ChildJvm(p, log, alias, JvmFlags.ofArguments(java.subList(1, java.size())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + alias + ": " + e.getMessage(), e);
        }
    }

    /**
     * Starts {@code alias args…} in a child JVM that shares this one's terminal (stdin, stdout, stderr) but not its
     * session, so a Ctrl-C at the terminal reaches only this JVM, which decides what the child hears.
     */
    public static Process attached(String alias, List<String> args) {
        List<String> cmd = new ArrayList<>();
        // setsid (util-linux) runs the child in a session of its own; without it the child shares our signals
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) cmd.add("/usr/bin/setsid");
        cmd.addAll(command(alias, args));
        try {
            return new ProcessBuilder(cmd).inheritIO().start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + alias + ": " + e.getMessage(), e);
        }
    }

    /** Waits for a JSON file the child writes when ready (e.g. {@code serve --ready-file}); fails with the log tail. */
    public com.fasterxml.jackson.databind.JsonNode awaitReadyFile(Path file, Duration timeout) {
        com.fasterxml.jackson.databind.JsonNode[] ready = {null};
        Await.until(() -> !process.isAlive() || (ready[0] = readJson(file)) != null, timeout);
        if (ready[0] != null) return ready[0];
        if (!process.isAlive())
            throw new IllegalStateException(alias + " exited with " + process.exitValue() + ":\n" + tail(20));
        close();
        throw new IllegalStateException(alias + " not ready after " + timeout.toSeconds() + " s:\n" + tail(20));
    }

    /** The file's JSON, or null while it is absent (it is moved into place atomically, so never half-written). */
    private static com.fasterxml.jackson.databind.JsonNode readJson(Path file) {
        try {
            return Files.exists(file) ? Json.parse(Files.readString(file)) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The flags it was started with ({@link JvmFlags}). */
    public List<String> jvmFlags() {
        return jvmFlags;
    }

    public boolean alive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** SIGKILL at once, as a crashed host would. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        if (!process.isAlive()) return;
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
