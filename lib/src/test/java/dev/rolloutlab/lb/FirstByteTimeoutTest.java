package dev.rolloutlab.lb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The automatic first-byte limit: derived from what was observed, and backed off when the fleet gets slower than that.
 */
class FirstByteTimeoutTest {
    private static final long MS = 1_000_000;

    @Test
    void fourTimesTheSlowestRecentFirstByteWithAFloorOf2s() {
        FirstByteTimeout t = new FirstByteTimeout(null, Duration.ofSeconds(60));
        for (int i = 0; i < 15; i++) t.observe(100 * MS);
        assertEquals(60_000 * MS, t.nanos(), "fewer than 16 seen: no basis to cut anything short");
        t.observe(900 * MS);
        assertEquals(3_600 * MS, t.nanos());
        for (int i = 0; i < 256; i++) t.observe(100 * MS);
        assertEquals(2_000 * MS, t.nanos(), "the slow one left the window; the floor holds");
    }

    @Test
    void timeoutsOnDifferentBackendsDoubleTheLimitUntilAWindowOfFirstBytesWasSeenAtTheNewPace() {
        FirstByteTimeout t = new FirstByteTimeout(null, Duration.ofSeconds(60));
        for (int i = 0; i < 32; i++) t.observe(200 * MS); // a quiet fleet: 2 s
        t.timedOut("a"); // a wave of load: answers now take 5 s everywhere
        assertEquals(2_000 * MS, t.nanos(), "one timeout alone cannot tell a slow fleet from a failing backend");
        t.timedOut("b");
        assertEquals(4_000 * MS, t.nanos());
        t.timedOut("a");
        assertEquals(8_000 * MS, t.nanos(), "backs off again: the 5 s answers now get through");
        t.observe(5_000 * MS);
        assertEquals(20_000 * MS, t.nanos(), "and once seen, four times them holds");
        for (int i = 0; i < 40; i++) t.timedOut(i % 2 == 0 ? "b" : "a");
        assertEquals(60_000 * MS, t.nanos(), "never past the backend timeout");
    }

    @Test
    void timeoutsOnOneFailingBackendLeaveTheLimitAlone() {
        FirstByteTimeout t = new FirstByteTimeout(null, Duration.ofSeconds(60));
        for (int i = 0; i < 32; i++) t.observe(200 * MS);
        for (int i = 0; i < 50; i++) t.timedOut("stalled");
        assertEquals(
                2_000 * MS, t.nanos(), "a backend that stalls must not raise every other request's limit to the cap");
    }

    @Test
    void aFixedLimitNeverMoves() {
        FirstByteTimeout t = new FirstByteTimeout(Duration.ofSeconds(1), Duration.ofSeconds(60));
        t.timedOut("a");
        t.timedOut("b");
        t.observe(30_000 * MS);
        assertEquals(1_000 * MS, t.nanos());
    }
}
