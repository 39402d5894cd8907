package dev.rolloutlab.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** The warm-up's trend rule on window series recorded on cloud VMs and on seeded series of their noise (±25 %). */
class SteadyStateTest {
    /** The windows of our engine's server on its first 10 × 800 requests (4 ports, 2 cores), req/s. */
    private static final double[] MEASURED = {115.0, 147.5, 149.7, 155.5, 162.4, 162.4, 162.3, 166.2, 160.0, 165.1};

    /** Windows of a default compare run's warm-up on a 2-core cloud VM whose hypervisor stole CPU, req/s. */
    private static final double[] NOISY_VM = {69, 88, 94, 89, 123, 125, 140, 94, 94};

    private static Integer steadyAt(double[] windows) {
        SteadyState s = new SteadyState();
        for (int i = 0; i < windows.length; i++) if (s.add(windows[i])) return i + 1;
        return null;
    }

    @Test
    void aServerStillGainingAPercentAWindowIsNotSteady() {
        // 160 → 165 req/s over the last windows: the trend test still sees a rise where a rule on means stopped at 9
        assertNull(steadyAt(MEASURED));
    }

    @Test
    void aNoisyRiseIsNotMistakenForAPlateau() {
        // the rule this one replaced called this steady after 9 windows: the last two dips hide a rise of 2x
        assertNull(steadyAt(NOISY_VM));
    }

    /** {@code n} windows around 100 req/s that gain {@code gain} of it per window, each off by up to ±25 %, seeded. */
    private static double[] noisy(double gain, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = 100 * (1 + gain * i) * (1 + r.nextDouble(-0.25, 0.25));
        return x;
    }

    @Test
    void withTwentyFivePercentNoiseAFlatServerIsSteadySoonAndARisingOneKeepsWarming() {
        int flatSoon = 0, risingKept = 0;
        for (long seed = 0; seed < 200; seed++) {
            Integer flat = steadyAt(noisy(0, 30, seed)), rising = steadyAt(noisy(0.08, 30, seed));
            if (flat != null && flat <= 10) flatSoon++;
            if (rising == null || rising > 12) risingKept++;
        }
        assertTrue(flatSoon >= 180, "a flat server steady within 10 windows in " + flatSoon + " of 200");
        assertTrue(
                risingKept >= 170, "a server gaining 8 % a window kept warming past 12 in " + risingKept + " of 200");
    }

    @Test
    void aServerWarmFromTheStartIsSteadyAfterTheFewestWindows() {
        SteadyState s = new SteadyState();
        double[] flat = {100, 102, 99, 101, 104, 98, 100, 103};
        for (int i = 0; i < flat.length - 1; i++) assertFalse(s.add(flat[i]), "too few windows: " + (i + 1));
        assertTrue(s.add(flat[flat.length - 1]));
    }

    @Test
    void theTrendStatisticsMatchTheirDefinitions() {
        // 1..5: all 10 pairs rise, S = 10, var = 5 * 4 * 15 / 18, z = 9 / sqrt(var); every pairwise slope is 1
        assertEquals(9 / Math.sqrt(5 * 4 * 15 / 18.0), SteadyState.mannKendallZ(new double[] {1, 2, 3, 4, 5}), 1e-12);
        assertEquals(1.0, SteadyState.senSlope(new double[] {1, 2, 3, 4, 5}), 1e-12);
        // one outlier cannot drag the median slope
        assertEquals(1.0, SteadyState.senSlope(new double[] {1, 2, 300, 4, 5}), 1e-12);
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
            // window k runs at k times the first's rate: over the last 10 windows a rise of more than 5 % a window,
            // which late wake-ups of 10 ms windows on a loaded machine cannot hide
            sleepPerRequest(n, 2_000_000L / calls[0]);
            return true;
        });
        assertFalse(s.steady(), s.toString());
        assertFalse(s.stopped());
        assertTrue(s.toString().contains("still getting faster"), s.toString());
    }

    private static void sleepPerRequest(int n, long nanos) {
        long until = System.nanoTime() + n * nanos;
        while (System.nanoTime() < until) LockSupport.parkNanos(until - System.nanoTime());
    }
}
