package dev.rolloutlab.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A cell's requests come from its slowest leg's warm-up rate, bounded, in whole blocks, and never change once asked.
 */
class CellSizingTest {
    /** The default grid: 4 in flight, at least 16 requests a cell, a second of its slowest leg, at most 256. */
    private final CompareConfig c = CompareConfig.defaults(false).build();

    private final GridCell cheap = new GridCell(8, 1), dear = new GridCell(128, 32);

    @Test
    void theSlowestLegSetsTheCountInWholeBlocks() {
        CellSizing s = new CellSizing(c);
        s.warmed(cheap, 12, 0.1); // 120 requests a second
        s.warmed(cheap, 12, 0.24); // 50 a second: the slower leg
        assertEquals(52, s.requests(cheap), "a second at 50/s, rounded up to blocks of 4");
    }

    @Test
    void theCountStaysWithinTheGridsBounds() {
        CellSizing s = new CellSizing(c);
        s.warmed(cheap, 12, 0.0001);
        s.warmed(dear, 12, 60);
        assertEquals(c.maxRequestsPerLeg(), s.requests(cheap), "a cell this fast stops at --max-requests");
        assertEquals(16, s.requests(dear), "a cell this slow still gets the grid's minimum");
        assertEquals(16, s.requests(new GridCell(8, 32)), "an unwarmed cell gets the minimum");
    }

    @Test
    void aCountOnceAskedHoldsForEveryRound() {
        CellSizing s = new CellSizing(c);
        s.warmed(cheap, 12, 0.24);
        assertEquals(52, s.requests(cheap));
        s.warmed(cheap, 12, 1.2); // a later, slower leg may not resize a cell already measured
        assertEquals(52, s.requests(cheap));
        assertEquals(Map.of("in=8 out=1", 52), s.byName());
    }

    @Test
    void aSliceIsAnEvenShareInWholeBlocksAndNeverEmpty() {
        CellSizing s = new CellSizing(c);
        s.warmed(cheap, 12, 0.24); // 52 requests: 13 blocks
        assertEquals(16, s.slice(cheap, 4), "13 blocks over 4 slots: 4 blocks a slot");
        assertEquals(4, s.slice(dear, 12), "4 blocks over 12 slots: still one block");
    }
}
