package dev.rolloutlab.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The timing model's fit: exact on a line, and right in relative terms at the short end of a bent curve. */
class LeastSquaresTest {
    @Test
    void recoversALineExactly() {
        double[][] x = {{1, 1, 10}, {1, 2, 10}, {1, 4, 30}, {1, 8, 20}, {1, 16, 50}};
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = 2 + 0.5 * x[i][1] + 0.01 * x[i][2];
        LeastSquares.Fit f = LeastSquares.fitRelative(x, y);
        assertEquals(2, f.beta()[0], 1e-9);
        assertEquals(0.5, f.beta()[1], 1e-9);
        assertEquals(0.01, f.beta()[2], 1e-9);
        assertEquals(1, f.r2(), 1e-12);
    }

    @Test
    void aShortPromptIsModelledWithinAThirdOfWhatItTook() {
        // prefill times our small model took on 2 cores (sim calibrate, 2026-11-26): they bend, and the 336-token point
        // is low
        double[] prompt = {16, 112, 224, 336, 448}, ms = {10.61, 79.98, 150.39, 167.48, 247.63};
        double[][] x = new double[prompt.length][];
        for (int i = 0; i < prompt.length; i++) x[i] = new double[] {1, prompt[i]};
        LeastSquares.Fit f = LeastSquares.fitRelative(x, ms);
        double at16 = f.beta()[0] + 16 * f.beta()[1];
        assertEquals(10.61, at16, 10.61 / 3, "an unweighted fit gave 22.5 ms here");
        assertTrue(f.r2() > 0.9, "R² " + f.r2());
    }
}
