package dev.rolloutlab.results;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rolloutlab.results.Confidence.Interval;
import org.junit.jupiter.api.Test;

/**
 * The verdict rule at the edges of its threshold: an interval must clear T to confirm, and lie inside ±T to dismiss.
 */
class VerdictTest {
    private static final double T = 1.0, EPS = 1e-9;

    private static Verdict of(double low, double high) {
        return Verdict.of(new Interval((low + high) / 2, low, high, 0.95), T);
    }

    @Test
    void confirmedOnlyWhenTheWholeIntervalClearsTheThreshold() {
        assertEquals(Verdict.CONFIRMED, of(T + EPS, 3));
        assertEquals(Verdict.UNDECIDED, of(T, 3), "an interval touching T does not confirm");
        assertEquals(Verdict.UNDECIDED, of(0.5, 3), "significant (above 0) but maybe below T: undecided");
        assertEquals(Verdict.CONTRADICTED, of(-3, -T - EPS));
        assertEquals(Verdict.UNDECIDED, of(-3, -T));
    }

    @Test
    void negligibleOnlyWhenTheWholeIntervalLiesWithinTheThreshold() {
        assertEquals(Verdict.NEGLIGIBLE, of(-T, T), "the edges belong to ±T");
        assertEquals(Verdict.NEGLIGIBLE, of(0.1, 0.2), "a tiny but significant effect is negligible");
        assertEquals(Verdict.UNDECIDED, of(-T - EPS, 0.5));
        assertEquals(Verdict.UNDECIDED, of(-0.5, T + EPS));
        assertEquals(Verdict.UNDECIDED, of(-3, 3), "too wide to tell");
    }

    @Test
    void tooFewSamplesAreUndecidedAndSaySo() {
        Interval point = Confidence.tMean(new double[] {5}, 0.95);
        assertEquals(Verdict.UNDECIDED, Verdict.of(point, T));
        assertEquals(Verdict.UNDECIDED, Verdict.of(null, T));
        assertTrue(Verdict.describe(point, T, "ms").contains("too few samples"), Verdict.describe(point, T, "ms"));
    }

    @Test
    void theDescriptionNamesTheIntervalAndTheThreshold() {
        String s = Verdict.describe(new Interval(0.05, -0.2, 0.31, 0.95), T, "ms");
        assertEquals("negligible (95 % CI [-0.20, 0.31] ms within ±1.00)", s);
    }

    @Test
    void theLatencyThresholdIsOneMillisecondOrTwoPercentOfTheBaseline() {
        assertEquals(1.0, Verdict.latencyThresholdMs(10), 1e-12);
        assertEquals(4.0, Verdict.latencyThresholdMs(200), 1e-12);
        assertEquals(1.0, Verdict.latencyThresholdMs(Double.NaN), 1e-12);
    }
}
