package dev.rolloutlab.server;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** A simulated host's link holds a thread for the one-way delay, never less, and states how late it ended. */
class LinkDelayTest {
    @Test
    void aWaitLastsAtLeastTheOneWayDelayAndItsLatenessIsRecorded() {
        LinkDelay link = new LinkDelay();
        assertFalse(link.active());
        long t0 = System.nanoTime();
        link.holdFrom(t0);
        assertEquals(0, link.timerError().waits(), "a link at zero takes no timer");
        link.set(4, 0);
        assertEquals(4, link.rttMs(), 1e-9);
        for (int i = 0; i < 20; i++) {
            long s = System.nanoTime();
            link.holdFrom(s);
            // a physical bound: the wait may end late, never early
            assertTrue(System.nanoTime() - s >= 2_000_000, "held less than the one-way 2 ms");
        }
        LinkDelay.TimerError e = link.timerError();
        assertEquals(20, e.waits());
        assertTrue(e.medianUs() >= 0 && e.p99Us() >= e.medianUs(), e.toString());
        long past = System.nanoTime() - 10_000_000;
        long before = System.nanoTime();
        link.holdFrom(past); // produced 10 ms ago: already due, no wait
        assertTrue(System.nanoTime() - before < 2_000_000, "a chunk already due leaves at once");
    }

    @Test
    void settingsOutsideTheirRangeAreRefusedByName() {
        LinkDelay link = new LinkDelay();
        var e = assertThrows(IllegalArgumentException.class, () -> link.set(-1, 0));
        assertTrue(e.getMessage().contains("rtt_ms"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> link.set(2, 3));
        assertTrue(e.getMessage().contains("jitter_ms"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> link.set(Double.NaN, 0));
        assertTrue(e.getMessage().contains("rtt_ms"), e.getMessage());
    }
}
