package dev.rolloutlab.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A set of servers started from one template: either a process group (the template's argv under {@code setsid}, output
 * appended to a log) or, for {@code mock-openai}, echo servers in this JVM. Used by the agent and by the commander's
 * local start.
 */
final class Service implements AutoCloseable {
    private final String kind;
    private final List<Integer> ports;
    private final Process process;
    private final List<EchoOpenAiServer> mocks;
    private final Path log;
    private final double startedAt = System.currentTimeMillis() / 1000.0;

    private Service(String kind, List<Integer> ports, Process process, List<EchoOpenAiServer> mocks, Path log) {
        this.kind = kind;
        this.ports = ports;
        this.process = process;
        this.mocks = mocks;
        this.log = log;
    }

    /** N echo servers; base port 0 picks free ports; backend ids start at {@code idBase}. */
    public static Service mock(String host, int n, int basePort, String modelId, String apiKey, int idBase) {
        List<EchoOpenAiServer> ms = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++)
                ms.add(new EchoOpenAiServer(host, basePort == 0 ? 0 : basePort + i, idBase + i, modelId, apiKey));
        } catch (RuntimeException e) {
            ms.forEach(EchoOpenAiServer::close);
            throw new IllegalArgumentException("cannot start mock-openai on " + host + ": " + e.getMessage());
        }
        return new Service(
                "mock-openai", ms.stream().map(EchoOpenAiServer::port).toList(), null, ms, null);
    }

    /** Runs an expanded template in its own session (so stop reaches every child), appending output to {@code log}. */
    public static Service process(LaunchTemplate.Expanded ex, Path workdir, Path log) {
        try {
            Files.createDirectories(workdir);
            List<String> argv = new ArrayList<>();
            argv.add("setsid");
            argv.addAll(ex.argv());
            Process p = new ProcessBuilder(argv)
                    .directory(workdir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
            return new Service(ex.template(), ex.ports(), p, List.of(), log);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot start " + ex.template() + ": " + e.getMessage());
        }
    }

    public String kind() {
        return kind;
    }

    public List<Integer> ports() {
        return ports;
    }

    public boolean alive() {
        return process == null || process.isAlive();
    }

    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", true);
        m.put("running", alive());
        m.put("kind", kind);
        m.put("ports", ports);
        m.put("started_at", startedAt);
        List<Long> pids = new ArrayList<>();
        if (process != null) {
            pids.add(process.pid());
            process.descendants().forEach(d -> pids.add(d.pid()));
        }
        m.put("pids", pids);
        m.put(
                "log_paths",
                log == null ? List.of() : List.of(log.toAbsolutePath().toString()));
        if (process != null && !process.isAlive()) m.put("exit_code", process.exitValue());
        return m;
    }

    public Map<String, Object> startReply() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", true);
        m.put("kind", kind);
        m.put("ports", ports);
        if (process != null) {
            m.put("pid", process.pid());
            m.put("log_path", log.toAbsolutePath().toString());
        }
        return m;
    }

    /** SIGTERM to the whole process group, SIGKILL after {@code graceSec}; returns what happened. */
    public String stop(int graceSec) {
        mocks.forEach(EchoOpenAiServer::close);
        if (process == null || !process.isAlive()) return "stopped";
        long pid = process.pid();
        signalGroup("-TERM", pid);
        try {
            if (process.waitFor(graceSec, TimeUnit.SECONDS)) return "stopped";
            signalGroup("-KILL", pid);
            process.waitFor(5, TimeUnit.SECONDS);
            return "killed";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            return "killed";
        }
    }

    private static void signalGroup(String sig, long pid) {
        try {
            new ProcessBuilder("kill", sig, "--", "-" + pid)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start()
                    .waitFor(5, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            ProcessHandle.of(pid)
                    .ifPresent(sig.equals("-KILL") ? ProcessHandle::destroyForcibly : ProcessHandle::destroy);
        }
    }

    @Override
    public void close() {
        stop(10);
    }
}
