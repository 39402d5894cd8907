package dev.rolloutlab.process;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU the JIT compilers of local JVMs have used: the threads HotSpot names {@code C1 CompilerThread…} and {@code C2
 * CompilerThread…}, read from {@code /proc/<pid>/task}. On 2 cores a JVM still compiling takes part of a core from
 * whatever is measured beside it, so a warm-up is not over while any compiler is busy. Read thread by thread: a
 * compiler thread the JVM retires between two readings loses only that window's time, not its history.
 */
public final class CompilerCpu {
    private static final double TICK_MS = 10; // USER_HZ, as in CpuTime
    private final List<Long> pids;
    private Map<String, Double> last;

    /** Starts counting the compilers of these processes (pids below 0 are skipped). */
    public CompilerCpu(List<Long> pids) {
        this.pids = pids.stream().filter(p -> p >= 0).toList();
        this.last = read();
    }

    /** Their compilers' CPU ms since the last call (or since construction); 0 where /proc is not there. */
    public double sinceLastMs() {
        Map<String, Double> now = read();
        double ms = 0;
        for (Map.Entry<String, Double> e : now.entrySet())
            ms += Math.max(0, e.getValue() - last.getOrDefault(e.getKey(), 0.0));
        last = now;
        return ms;
    }

    private Map<String, Double> read() {
        Map<String, Double> out = new HashMap<>();
        for (long pid : pids) {
            try (DirectoryStream<Path> tasks =
                    Files.newDirectoryStream(Path.of("/proc", String.valueOf(pid), "task"))) {
                for (Path task : tasks) {
                    double ms = compilerMs(task.resolve("stat"));
                    if (ms >= 0) out.put(pid + "/" + task.getFileName(), ms);
                }
            } catch (IOException | RuntimeException e) {
                // the process is gone or /proc is not there: nothing of it to count
            }
        }
        return out;
    }

    /** A compiler thread's user + system ms, or -1 for any other thread (or one that just ended). */
    private static double compilerMs(Path stat) {
        try {
            String s = Files.readString(stat);
            int open = s.indexOf('('), close = s.lastIndexOf(')');
            String name = s.substring(open + 1, close);
            if (!name.startsWith("C1 CompilerThre") && !name.startsWith("C2 CompilerThre")) return -1;
            String[] f = s.substring(close + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_MS;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
