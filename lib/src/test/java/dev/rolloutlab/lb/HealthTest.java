package dev.rolloutlab.lb;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

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

    @Test
    void firstByteTimeoutsEjectABackendThatPassesItsProbesUntilTheCooldownEnds() throws Exception {
        Health h = new Health();
        long cooldown = 200_000_000L;
        h.firstByteTimedOut(3, cooldown);
        h.probed(true);
        h.firstByteTimedOut(3, cooldown);
        assertTrue(h.available(System.nanoTime()), "two timeouts: still in rotation");
        h.firstByteTimedOut(3, cooldown);
        assertFalse(h.available(System.nanoTime()), "three in a row: ejected");
        h.probed(true);
        assertFalse(h.available(System.nanoTime()), "a passing /health probe does not end an ejection");
        assertEquals("ejected", h.breakerState(System.nanoTime()));
        long end = h.ejectedUntilNs;
        while (System.nanoTime() < end) Thread.onSpinWait();
        assertTrue(h.available(System.nanoTime()), "back after its cooldown");
        h.firstByteTimedOut(3, cooldown);
        assertFalse(h.available(System.nanoTime()), "on probation: one more timeout ejects it again");
    }
}
