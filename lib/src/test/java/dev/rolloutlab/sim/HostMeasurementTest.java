package dev.rolloutlab.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Three measurements of one host, one of them taken in a slow spell: the median of each figure leaves the spell out.
 */
class HostMeasurementTest {
    private static HostMeasurement host(double scale, double nan) {
        return new HostMeasurement(
                4 * scale,
                2 * scale,
                0.1,
                7 * scale,
                8 * scale,
                11 * scale,
                15 * scale,
                100 * scale,
                nan,
                Double.NaN,
                Double.NaN);
    }

    @Test
    void theMedianOfThreeTakesEachFiguresMiddleValue() {
        HostMeasurement calm = host(1, Double.NaN), spell = host(1.5, Double.NaN), other = host(0.9, Double.NaN);
        HostMeasurement m = spell.medianWith(calm, other);
        assertEquals(calm, m, "the calm measurement lies between the spell and the other, figure by figure");
        assertTrue(Double.isNaN(m.itlCv()), "a figure one port cannot measure stays unmeasured");
        HostMeasurement mixed = new HostMeasurement(5, 1, 0.1, 7, 8, 11, 15, 100, 0.5, 1.2, 2.0)
                .medianWith(new HostMeasurement(3, 3, 0.3, 9, 8, 10, 16, 90, 0.4, 1.6, 3.0), host(1, 0.6));
        assertEquals(
                new HostMeasurement(4, 2, 0.1, 7, 8, 11, 15, 100, 0.5, Double.NaN, Double.NaN),
                mixed,
                "no queue where one lacks it");
        assertEquals(
                1.4,
                new HostMeasurement(5, 1, 0.1, 7, 8, 11, 15, 100, 0.5, 1.2, 2.0)
                        .meanWith(new HostMeasurement(3, 3, 0.3, 9, 8, 10, 16, 90, 0.4, 1.6, 3.0))
                        .queueBesideDecodes(),
                1e-12);
    }
}
