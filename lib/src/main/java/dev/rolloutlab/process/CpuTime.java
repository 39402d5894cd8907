package dev.rolloutlab.process;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time a process has used so far, in milliseconds: this JVM to the nanosecond, another process from
 * {@code /proc/<pid>/stat} (user + system, in clock ticks of 10 ms on Linux). On a shared machine CPU is the cost that
 * moves least from run to run, so legs are compared by it too.
 */
public final class CpuTime {
    private static final double TICK_MS = 10; // USER_HZ is 100 on every Linux this runs on (getconf CLK_TCK)

    private CpuTime() {}

    public static double selfMs() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                        .getProcessCpuTime()
                / 1e6;
    }

    /** NaN when the process is gone or /proc is not there. */
    public static double ofMs(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            // fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_MS;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
