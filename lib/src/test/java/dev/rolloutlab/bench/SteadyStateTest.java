package dev.rolloutlab.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class SteadyStateTest {
    /** The windows of our engine's server on its first 10 × 800 requests (4 ports, 2 cores), req/s. */
    private static final double[] MEASURED = {115.0, 147.5, 149.7, 155.5, 162.4, 162.4, 162.3, 166.2, 160.0, 165.1};

    @Test
    void aServerStillGettingFasterIsNotSteadyUntilThreeWindowsAddNothing() {
        SteadyState s = new SteadyState();
        List<Integer> steadyAt = new ArrayList<>();
        for (int i = 0; i < MEASURED.length; i++) if (s.add(MEASURED[i])) steadyAt.add(i + 1);
        // windows 6-8 were still 4.9 % faster than 3-5; 7-9 are 1.7 % faster than 4-6
        assertEquals(9, steadyAt.getFirst());
    }

    @Test
    void aServerWarmFromTheStartIsSteadyAfterSixWindows() {
        SteadyState s = new SteadyState();
        for (double r : new double[] {100, 102, 99, 101, 104}) assertFalse(s.add(r));
        assertTrue(s.add(98));
    }

    @Test
    void warmStopsAtTheFirstSteadyWindowAndSizesLaterWindowsByRate() {
        List<Integer> sizes = new ArrayList<>();
        SteadyState s = SteadyState.warm(40, 8, 0.05, 60, n -> {
            sizes.add(n);
            sleepPerRequest(n, 500_000); // 2,000 req/s
            return true;
        });
        assertTrue(s.steady(), s.toString());
        SteadyState before = new SteadyState();
        s.rates().subList(0, s.rates().size() - 1).forEach(before::add);
        assertFalse(before.steady(), "kept warming after a steady window: " + s);
        assertEquals(40, sizes.getFirst());
        // 0.05 s at about 2,000 req/s: about 100 requests, well above the minimum of 8
        assertTrue(sizes.get(1) > 30 && sizes.get(1) <= 110, sizes.toString());
    }

    @Test
    void aFailedWindowStopsTheWarmUpAndSaysSo() {
        int[] calls = {0};
        SteadyState s = SteadyState.warm(10, 4, 0.01, 60, n -> ++calls[0] < 2);
        assertTrue(s.stopped());
        assertEquals(2, calls[0]);
        assertTrue(s.toString().startsWith("stopped"), s.toString());
    }

    @Test
    void theTimeCapEndsAWarmUpThatKeepsGettingFaster() {
        int[] calls = {0};
        SteadyState s = SteadyState.warm(10, 4, 0.01, 0.2, n -> {
            calls[0]++;
            sleepPerRequest(n, 2_000_000L / calls[0]); // every window faster than the last
            return true;
        });
        assertFalse(s.steady());
        assertFalse(s.stopped());
        assertTrue(s.toString().contains("still getting faster"), s.toString());
    }

    private static void sleepPerRequest(int n, long nanos) {
        long until = System.nanoTime() + n * nanos;
        while (System.nanoTime() < until) LockSupport.parkNanos(until - System.nanoTime());
    }
}
