package dev.rolloutlab.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

    @Test
    void warmedTogetherASteadyServerKeepsItsLoadOnUntilTheOtherIsSteadyToo() {
        int[] risingWindows = {0};
        List<SteadyState> states = SteadyState.warmTogether(
                40,
                8,
                0.02,
                60,
                List.of(
                        n -> {
                            sleepPerRequest(n, 500_000); // flat: 2,000 req/s from the first window
                            return true;
                        },
                        n -> {
                            // a fifth faster a window over its first 16 windows, as a compiling server gets
                            int k = Math.min(++risingWindows[0], 16);
                            sleepPerRequest(n, (long) (500_000 * Math.pow(1.2, 16 - k)));
                            return true;
                        }));
        SteadyState flat = states.get(0), rising = states.get(1);
        assertTrue(flat.steady() && rising.steady(), states.toString());
        assertTrue(rising.rates().size() > 16, "steady while still rising: " + rising);
        // alone the flat one would have stopped at its eighth window; together it went on as long as the other
        assertTrue(flat.rates().size() > 12, "stopped before the other was steady: " + flat + " / " + rising);
        assertTrue(flat.seconds() >= 0.7 * rising.seconds(), flat + " / " + rising);
        // and the group ended at the first window after which both were steady
        SteadyState risingBefore =
                SteadyState.of(rising.rates().subList(0, rising.rates().size() - 1));
        SteadyState flatBefore =
                SteadyState.of(flat.rates().subList(0, flat.rates().size() - 1));
        assertFalse(risingBefore.steady() && flatBefore.steady(), flat + " / " + rising);
    }

    @Test
    void warmedTogetherAFailedWindowEndsThatOneAloneAndAThrownOneEndsAll() {
        List<SteadyState> states = SteadyState.warmTogether(10, 4, 0.01, 60, List.of(n -> false, n -> {
            sleepPerRequest(n, 500_000);
            return true;
        }));
        assertTrue(states.get(0).stopped() && states.get(0).rates().isEmpty(), states.toString());
        assertTrue(states.get(1).steady(), states.toString());
        IllegalStateException e = assertThrows(
                IllegalStateException.class,
                () -> SteadyState.warmTogether(
                        10,
                        4,
                        0.01,
                        60,
                        List.of(
                                n -> {
                                    throw new IllegalStateException("the leg's server went away");
                                },
                                n -> {
                                    sleepPerRequest(n, 500_000);
                                    return true;
                                })));
        assertEquals("the leg's server went away", e.getMessage());
    }

    private static void sleepPerRequest(int n, long nanos) {
        long until = System.nanoTime() + n * nanos;
        while (System.nanoTime() < until) LockSupport.parkNanos(until - System.nanoTime());
    }
}
