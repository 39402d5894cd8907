package dev.rolloutlab.sim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The honesty check's rule: a figure fails only when its interval over the pairs lies beyond ±15 %. */
@Tag("fast")
class SimHonestyVerdictTest {
    private static final double[] REAL = {400, 520, 450, 480};

    /** Pairs of one cell whose simulated figures are the real ones times {@code factors}, pair by pair. */
    private static String table(double... factors) {
        List<Map<String, SimHonestyBenchmark.Figures>> reals = new ArrayList<>(), sims = new ArrayList<>();
        for (int i = 0; i < factors.length; i++) {
            reals.add(cell(REAL[i], 1));
            sims.add(cell(REAL[i], factors[i]));
        }
        return SimHonestyBenchmark.table(reals, reals, sims);
    }

    /** One cell's figures: throughput {@code tok × f} and a p50 e2el of 10 ms ÷ f, as a faster host reads. */
    private static Map<String, SimHonestyBenchmark.Figures> cell(double tok, double f) {
        Map<String, SimHonestyBenchmark.Figures> m = new LinkedHashMap<>();
        m.put("in=8 out=1", new SimHonestyBenchmark.Figures(tok * f, 10 / f, 10 / f));
        return m;
    }

    @Test
    void aSimulatedHostThatHoldsItsRealOneIsWithin15Percent() {
        String t = table(1.02, 0.97, 1.04, 0.99);
        assertTrue(t.contains("Passed: 2 figures within 15 %, 0 off by more, 0 undecided"), t);
    }

    @Test
    void aSimulatedHostFastOnEveryPairFails() {
        String t = table(1.45, 1.52, 1.35, 1.40);
        assertTrue(t.contains("OFF: sim higher"), t);
        assertTrue(t.contains("OFF: sim lower"), t);
        assertTrue(t.contains("FAILED: 0 figures within 15 %, 2 off by more"), t);
    }

    @Test
    void pairsThatScatterBothWaysAreUndecidedNotAPassOrAFailure() {
        // the median of these pairs is within 15 %, which the older rule would have called a match
        String t = table(1.49, 0.88, 0.97, 1.10);
        assertTrue(t.contains("Passed: 0 figures within 15 %, 0 off by more, 2 undecided"), t);
        assertTrue(t.contains("The median of the pairs within 15 %: 2 of 2"), t);
    }

    @Test
    void theVerdictIsReadAtTheIntervalsEdge() {
        // an interval just inside ±15 % and one just across it
        String inside = table(1.10, 1.11, 1.09, 1.10), across = table(1.10, 1.16, 1.04, 1.10);
        assertTrue(inside.contains("2 figures within 15 %"), inside);
        assertTrue(across.contains("undecided"), across);
    }
}
