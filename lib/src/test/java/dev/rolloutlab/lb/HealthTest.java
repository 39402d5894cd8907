package dev.rolloutlab.lb;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** What a probe's outcome does to a backend: a refusal takes it out at once, late answers only several in a row. */
class HealthTest {
    @Test
    void lateProbesTakeABackendOutOnlyAfterThresholdInARow() {
        Health h = new Health();
        h.probeTimedOut(3);
        h.probeTimedOut(3);
        assertTrue(h.up, "two late probes: an overloaded backend stays in rotation");
        h.probed(true);
        h.probeTimedOut(3);
        h.probeTimedOut(3);
        assertTrue(h.up, "a pass in between starts the count again");
        h.probeTimedOut(3);
        assertFalse(h.up, "three late probes in a row: hung, out");
        h.probed(true);
        assertTrue(h.up && h.available(System.nanoTime()), "a later pass brings it back");
    }

    @Test
    void aFailedProbeTakesABackendOutAtOnce() {
        Health h = new Health();
        h.probed(false);
        assertFalse(h.up);
        assertFalse(h.available(System.nanoTime()));
    }
}
