package dev.rolloutlab.engine.model;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Finished caches come back for requests of their size, never for others, and no more than the cap is kept. */
class KvPoolTest {
    @Test
    void aGivenCacheServesTheNextRequestOfItsSizeOnlyAndTheCapHolds() {
        KvPool pool = new KvPool(2, 8, 2 * new KvCache(2, 8, 130).bytes());
        KvCache a = pool.take(130);
        assertEquals(0, pool.bytes());
        pool.give(a);
        assertEquals(a.bytes(), pool.bytes());
        KvCache other = pool.take(300);
        assertNotSame(a, other, "another size gets a new cache");
        assertTrue(other.keyStride() >= 300);
        assertSame(a, pool.take(129), "the same capacity class (192 positions) reuses it");
        assertEquals(0, pool.bytes());
        assertNotSame(a, pool.take(130), "taken once, gone from the pool");

        KvCache b = pool.take(130), c = pool.take(130), d = pool.take(130);
        pool.give(b);
        pool.give(c);
        pool.give(d); // past the cap of two: left to the collector
        assertEquals(2 * b.bytes(), pool.bytes());
        KvCache first = pool.take(130), second = pool.take(130), third = pool.take(130);
        assertSame(c, first, "the most recently given first");
        assertSame(b, second);
        assertNotSame(d, third);
    }
}
