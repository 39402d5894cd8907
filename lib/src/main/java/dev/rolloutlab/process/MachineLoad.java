package dev.rolloutlab.process;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What else the machine was doing: the 1-minute load average and the CPU time stolen by the hypervisor, read from /proc
 * (NaN elsewhere), and a fixed CPU calibration whose time moves when the machine is noisy.
 */
public final class MachineLoad {
    private MachineLoad() {}

    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** Steal time of all CPUs so far, in ms (the 8th value of the "cpu" line of /proc/stat, in 10 ms ticks). */
    public static double stealMs() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/stat"))) {
                if (l.startsWith("cpu ")) return Long.parseLong(l.trim().split("\\s+")[8]) * 10.0;
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return Double.NaN;
    }

    /**
     * Busy and total CPU ticks of all CPUs so far, from /proc/stat ({busy, total}; {0, 0} off Linux); differences give
     * busy %.
     */
    public static long[] cpuTicks() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/stat"))) {
                if (!l.startsWith("cpu ")) continue;
                String[] f = l.trim().split("\\s+");
                long total = 0;
                for (int i = 1; i < f.length && i <= 8; i++) total += Long.parseLong(f[i]);
                long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
                return new long[] {total - idle, total};
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return new long[] {0, 0};
    }

    /** This machine's busy CPU, in percent, between two {@link #cpuTicks()} readings; NaN if no tick passed. */
    public static double busyPct(long[] before, long[] after) {
        return after[1] == before[1] ? Double.NaN : 100.0 * (after[0] - before[0]) / (after[1] - before[1]);
    }

    /** Milliseconds a fixed single-threaded computation takes (best of three, about 0.2 s each on a 2026 core). */
    public static double calibrationMs() {
        double best = Double.MAX_VALUE;
        long sink = 0;
        for (int round = 0; round < 3; round++) {
            long t0 = System.nanoTime();
            long x = 88172645463325252L;
            for (int i = 0;
                    i < 200_000_000;
                    i++) { // xorshift: no memory traffic, no allocation, nothing to optimise away
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
            }
            sink += x;
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        if (sink == 42) System.out.print(""); // keeps the loop's result alive
        return best;
    }
}
