package dev.rolloutlab.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.openai.ServerTimings;
import java.util.List;
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
                HostMeasurement.Waits.UNKNOWN,
                HostMeasurement.Duty.UNKNOWN);
    }

    private static HostMeasurement.Waits waits(double queuedChance, double queuedMs) {
        var q = new HostMeasurement.Waited(queuedChance, queuedMs);
        return new HostMeasurement.Waits(q, q, new HostMeasurement.Waited(0.2, 3));
    }

    @Test
    void theMedianOfThreeTakesEachFiguresMiddleValue() {
        HostMeasurement calm = host(1, Double.NaN), spell = host(1.5, Double.NaN), other = host(0.9, Double.NaN);
        HostMeasurement m = spell.medianWith(calm, other);
        assertEquals(calm, m, "the calm measurement lies between the spell and the other, figure by figure");
        assertTrue(Double.isNaN(m.itlCv()), "a figure one port cannot measure stays unmeasured");
        HostMeasurement mixed = new HostMeasurement(
                        5, 1, 0.1, 7, 8, 11, 15, 100, 0.5, waits(0.4, 2.0), HostMeasurement.Duty.UNKNOWN)
                .medianWith(
                        new HostMeasurement(
                                3, 3, 0.3, 9, 8, 10, 16, 90, 0.4, waits(0.6, 3.0), HostMeasurement.Duty.UNKNOWN),
                        host(1, 0.6));
        assertEquals(
                new HostMeasurement(
                        4, 2, 0.1, 7, 8, 11, 15, 100, 0.5, HostMeasurement.Waits.UNKNOWN, HostMeasurement.Duty.UNKNOWN),
                mixed,
                "no waits where one lacks them");
        assertEquals(
                new HostMeasurement.Waited(0.5, 2.5),
                new HostMeasurement(5, 1, 0.1, 7, 8, 11, 15, 100, 0.5, waits(0.4, 2.0), HostMeasurement.Duty.UNKNOWN)
                        .meanWith(new HostMeasurement(
                                3, 3, 0.3, 9, 8, 10, 16, 90, 0.4, waits(0.6, 3.0), HostMeasurement.Duty.UNKNOWN))
                        .waits()
                        .queuedBesideDecodes(),
                "the mean of each wait's chance and length");
    }

    @Test
    void aFitIsJudgedBeyondTheHostsOwnSpread() {
        HostMeasurement first = host(1, 0.5), again = host(1.2, 0.5);
        HostMeasurement spread = first.spread(again);
        assertEquals(0.2 / 1.1, spread.ttftAlone(), 1e-12, "(largest − smallest) / mean");
        assertEquals(0, spread.itlCv(), 1e-12, "a figure both read alike");
        assertEquals(0.4, host(1, 0.5).spread(host(0.8, 0.5), host(1.2, 0.5)).tpot(), 1e-12, "over three");
        HostMeasurement real = first.meanWith(again), sim = host(1.1 * 1.3, 0.5);
        assertEquals(0.3, sim.worstError(real), 1e-9, "30 % off on every time");
        assertEquals(0.3 - 0.2 / 1.1, sim.worstError(real, spread), 1e-9, "12 % of it beyond the host's 18 %");
        assertEquals(
                0,
                host(1.1 * 1.15, 0.5).worstError(real, spread),
                1e-12,
                "15 % off is inside the host's own 18 %: nothing a further round could tell from noise");
        assertEquals(
                "time to the first token of the long prompt",
                host(1, 0.5)
                        .worstFigure(host(1, 0.5)
                                .meanWith(new HostMeasurement(
                                        4,
                                        2,
                                        0.1,
                                        7,
                                        8,
                                        11,
                                        15,
                                        50,
                                        0.5,
                                        HostMeasurement.Waits.UNKNOWN,
                                        HostMeasurement.Duty.UNKNOWN))));
    }

    @Test
    void aWaitIsTheShareOfRequestsPastTheThresholdAndTheirMeanAndUnknownWithoutTimings() {
        double nan = Double.NaN;
        assertEquals(
                new HostMeasurement.Waited(0.5, 3.0),
                HostMeasurement.Waited.of(new double[] {0.05, 2, 0.02, 4}),
                "two of four waited, 2 and 4 ms");
        assertEquals(new HostMeasurement.Waited(0, 0), HostMeasurement.Waited.of(new double[] {0.05, 0.1}));
        assertTrue(
                Double.isNaN(
                        HostMeasurement.Waited.of(new double[] {nan, nan, 1}).chance()),
                "mostly unreported");
        assertEquals(
                2.0,
                HostMeasurement.Waited.of(new double[] {0.05, 2, nan, 4}).perRequestMs(),
                1e-12,
                "per request, over those reported");
    }

    @Test
    void aFitCountsEachNeighbourForTheShareOfTheTimeItPrefills() {
        // two single-token requests: 6 ms of prefill in 8, 3 in 4
        List<OpenAiClient.Result> loop = List.of(answered(8, 6), answered(4, 3));
        assertEquals(0.75, HostProbe.duty(loop), 1e-9, "prefill time over the requests' whole time");
        assertTrue(
                Double.isNaN(HostProbe.duty(List.of(answered(8, 6), answered(4, Double.NaN)))),
                "unknown where a server does not report its timings");
        assertEquals(1 + 3 * 0.75, HostFit.together(4, 0.75), 1e-12, "itself and three neighbours three quarters busy");
        assertEquals(4, HostFit.together(4, Double.NaN), 1e-12, "every neighbour busy where the duty is unknown");
        assertEquals(1, HostFit.together(1, 0.75), 1e-12, "alone on its host");
    }

    private static OpenAiClient.Result answered(double e2elMs, double prefillMs) {
        long end = (long) (e2elMs * 1e6);
        return new OpenAiClient.Result(200, "", 0, 0, end, end, 8, 1, new long[] {end}, "x", null, null, 0)
                .withServerTimings(new ServerTimings(0.02, prefillMs, 0.02, 0.01, prefillMs + 0.05, Double.NaN));
    }
}
