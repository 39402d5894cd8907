package dev.rolloutlab.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Three measurements of one host, one of them taken in a slow spell: the median of each figure leaves the spell out.
 */
class HostMeasurementTest {
    private static HostFit.Measured host(double scale, double nan) {
        return new HostFit.Measured(
                4 * scale, 2 * scale, 0.1, 7 * scale, 8 * scale, 11 * scale, 15 * scale, 100 * scale, nan);
    }

    @Test
    void theMedianOfThreeTakesEachFiguresMiddleValue() {
        HostFit.Measured calm = host(1, Double.NaN), spell = host(1.5, Double.NaN), other = host(0.9, Double.NaN);
        HostFit.Measured m = spell.medianWith(calm, other);
        assertEquals(calm, m, "the calm measurement lies between the spell and the other, figure by figure");
        assertTrue(Double.isNaN(m.itlCv()), "a figure one port cannot measure stays unmeasured");
        HostFit.Measured mixed = new HostFit.Measured(5, 1, 0.1, 7, 8, 11, 15, 100, 0.5)
                .medianWith(new HostFit.Measured(3, 3, 0.3, 9, 8, 10, 16, 90, 0.4), host(1, 0.6));
        assertEquals(new HostFit.Measured(4, 2, 0.1, 7, 8, 11, 15, 100, 0.5), mixed);
    }
}
