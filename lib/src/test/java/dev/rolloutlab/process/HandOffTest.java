package dev.rolloutlab.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The hand-off calibration pins its threads where it says, and reads a cost from a real round trip. */
class HandOffTest {
    /** The CPU the calling thread last ran on: field 39 of /proc/thread-self/stat (after the command's parentheses). */
    private static int currentCpu() throws Exception {
        String stat = Files.readString(Path.of("/proc/thread-self/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(f[39 - 3]);
    }

    @Test
    void aPinnedThreadRunsOnItsCpu() throws Exception {
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "needs two CPUs");
        int[] seen = new int[2];
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                for (int cpu = 0; cpu < 2; cpu++) {
                    HandOff.pin(cpu); // it waited for taskset, so it woke on that CPU
                    seen[cpu] = currentCpu();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        t.join();
        assertEquals(0, seen[0]);
        assertEquals(1, seen[1]);
    }

    @Test
    void aHandOffBetweenCpusCostsMicroseconds() {
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "needs two CPUs");
        double us = HandOff.crossCpuUs();
        assertTrue(us > 1 && us < 10_000, "µs of CPU a round trip: " + us);
    }
}
