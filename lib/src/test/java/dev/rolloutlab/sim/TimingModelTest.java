package dev.rolloutlab.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** How much a simulated step varies with its length: the fitted cv at a one-row decode step, less for longer steps. */
class TimingModelTest {
    // a one-row decode step of 1 ms (c 0.6 + d 0.4), prefill 2 ms + 0.1 ms a token, cv 0.8
    private final TimingModel m = new TimingModel(2, 0.1, 0.6, 0.4, 0, 16).withStepCv(0.8);

    @Test
    void aOneRowDecodeStepVariesByTheFittedCvAndShorterStepsNoMore() {
        assertEquals(0.8, m.cvOf(m.stepNanos(0, 1, 0)), 1e-12);
        assertEquals(0.8, m.cvOf(500_000), 1e-12, "a shorter step: the fitted cv, not more");
    }

    @Test
    void aStepFourTimesAsLongVariesByHalfAndOneOfAHundredTimesByATenth() {
        assertEquals(0.4, m.cvOf(4 * m.stepNanos(0, 1, 0)), 1e-9);
        // a 128-token prefill here: 2 + 12.8 ms against the 1 ms decode step
        assertEquals(0.8 / Math.sqrt(14.8), m.cvOf(m.stepNanos(128, 0, 0)), 1e-9);
        assertEquals(0.08, m.cvOf(100 * m.stepNanos(0, 1, 0)), 1e-9);
    }

    @Test
    void aClockStaysAClock() {
        assertEquals(0, m.withStepCv(0).cvOf(m.stepNanos(128, 0, 0)));
        assertEquals(
                0.8,
                new TimingModel(0, 0, 0, 0, 0, 1).withStepCv(0.8).cvOf(1_000_000),
                1e-12,
                "no decode step to scale from: the cv as fitted");
    }
}
