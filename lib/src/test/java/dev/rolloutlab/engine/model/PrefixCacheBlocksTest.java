package dev.rolloutlab.engine.model;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import org.junit.jupiter.api.Test;

/**
 * A prefix cache's blocks hold their own keys and values: the sequence that computed them can end (its whole cache
 * freed) or be overwritten, and a later hit still restores what was computed. Its cap then bounds what it keeps.
 */
class PrefixCacheBlocksTest {
    private static final int LAYERS = 2, KV_DIM = 8, LEN = 3 * PrefixCache.BLOCK + 5;

    private static KvCache filled(int len, float base) {
        KvCache kv = new KvCache(LAYERS, KV_DIM, len);
        float[] key = new float[KV_DIM], value = new float[KV_DIM];
        for (int l = 0; l < LAYERS; l++)
            for (int pos = 0; pos < len; pos++) {
                for (int j = 0; j < KV_DIM; j++) {
                    key[j] = base + l * 10_000 + pos * KV_DIM + j;
                    value[j] = -key[j];
                }
                kv.write(l, pos, key, 0, value, 0);
            }
        return kv;
    }

    private static int[] tokens() {
        int[] t = new int[LEN];
        for (int i = 0; i < LEN; i++) t[i] = 7 + i;
        return t;
    }

    @Test
    void aHitRestoresWhatWasComputedAfterTheSequencesOwnCacheWasOverwritten() {
        int[] t = tokens();
        long[] h = PrefixCache.hashes(t, t.length);
        PrefixCache cache = new PrefixCache(LAYERS, KV_DIM, 1 << 20, true);
        KvCache source = filled(LEN, 1);
        cache.store(t, t.length, h, 1, source);
        KvCache want = filled(LEN, 1);
        for (int l = 0; l < LAYERS; l++) { // the sequence's cache is reused for something else
            java.util.Arrays.fill(source.k[l], 0f);
            java.util.Arrays.fill(source.v[l], 0f);
        }
        KvCache into = new KvCache(LAYERS, KV_DIM, 16);
        int n = cache.restore(h, t, 1, into);
        assertEquals(3 * PrefixCache.BLOCK, n, "every whole block before the last token");
        // every layer's keys and values of the restored positions, packed the same way on both sides
        assertArrayEquals(packed(want, n), packed(into, n), "what the hit restored");
    }

    /** Every layer's keys and values of positions {@code [0, n)}, packed. */
    private static float[] packed(KvCache c, int n) {
        float[] out = new float[c.floats(n)];
        c.copyOut(0, n, java.nio.FloatBuffer.wrap(out), 0);
        return out;
    }

    @Test
    void whenDirectMemoryHasNoRoomTheCacheKeepsItsSizeAndStillRestoresExactly() {
        // fixture: memory that gives one chunk of three slots and then refuses, as exhausted direct memory does
        int[] chunksGiven = {0};
        BlockSlots.Memory oneChunk = bytes -> {
            if (chunksGiven[0]++ > 0) throw new OutOfMemoryError("Cannot reserve " + bytes + " bytes of direct memory");
            return java.nio.ByteBuffer.allocateDirect(bytes);
        };
        PrefixCache cache = new PrefixCache(
                LAYERS, KV_DIM, 1 << 20, true, floats -> new BlockSlots(floats, 3 * floats * Float.BYTES, oneChunk));
        int[] a = tokens(), b = tokens();
        for (int i = 0; i < b.length; i++) b[i] += 1000;
        cache.store(a, a.length, PrefixCache.hashes(a, a.length), 1, filled(LEN, 1));
        KvCache bValues = filled(LEN, 500_000);
        cache.store(b, b.length, PrefixCache.hashes(b, b.length), 1, bValues); // no new chunk: a's slots hold b's
        assertEquals(2, chunksGiven[0], "one chunk given, one refused");
        PrefixCache.Stats s = cache.stats();
        assertEquals(3, s.blocks(), s.toString());
        assertEquals(3, s.evictions(), "the first prompt's blocks made room: " + s);
        KvCache into = new KvCache(LAYERS, KV_DIM, 16);
        assertEquals(0, cache.restore(PrefixCache.hashes(a, a.length), a, 1, into), "the first prompt is gone");
        int n = cache.restore(PrefixCache.hashes(b, b.length), b, 1, into);
        assertEquals(3 * PrefixCache.BLOCK, n);
        assertArrayEquals(packed(bValues, n), packed(into, n), "the second prompt, from the first's slots");
    }

    @Test
    void anEvictedBlocksSlotHoldsTheNextBlockAndRestoresItExactly() {
        // room for three blocks: each prompt of three evicts the one before; the third takes the first's freed slots
        PrefixCache cache = new PrefixCache(LAYERS, KV_DIM, 3 * PrefixCache.bytesPerBlock(LAYERS, KV_DIM), true);
        int[] a = tokens(), b = tokens(), c = tokens();
        for (int i = 0; i < b.length; i++) {
            b[i] += 1000;
            c[i] += 2000;
        }
        cache.store(a, a.length, PrefixCache.hashes(a, a.length), 1, filled(LEN, 1));
        cache.store(b, b.length, PrefixCache.hashes(b, b.length), 1, filled(LEN, 500_000));
        KvCache cValues = filled(LEN, 900_000);
        cache.store(c, c.length, PrefixCache.hashes(c, c.length), 1, cValues);
        assertEquals(6, cache.stats().evictions(), cache.stats().toString());
        KvCache into = new KvCache(LAYERS, KV_DIM, 16);
        assertEquals(0, cache.restore(PrefixCache.hashes(a, a.length), a, 1, into), "the first prompt is gone");
        assertEquals(0, cache.restore(PrefixCache.hashes(b, b.length), b, 1, into), "the second too");
        int n = cache.restore(PrefixCache.hashes(c, c.length), c, 1, into);
        assertEquals(3 * PrefixCache.BLOCK, n);
        assertArrayEquals(packed(cValues, n), packed(into, n), "the reused slots hold the third prompt's values");
    }

    @Test
    void aStoredSequencesWholeCacheCanBeCollected() throws InterruptedException {
        int[] t = tokens();
        PrefixCache cache = new PrefixCache(LAYERS, KV_DIM, 1 << 20, true);
        KvCache source = new KvCache(LAYERS, KV_DIM, 4096); // sized for a long context, as an engine's are
        cache.store(t, t.length, PrefixCache.hashes(t, t.length), 1, source);
        ReferenceQueue<KvCache> collected = new ReferenceQueue<>();
        WeakReference<KvCache> gone = new WeakReference<>(source, collected);
        source = null;
        boolean cleared = false;
        for (int i = 0; i < 20 && !cleared; i++) {
            System.gc();
            cleared = collected.remove(100) == gone;
        }
        assertTrue(cleared, "the cache kept the sequence's whole " + (2L * LAYERS * 4096 * KV_DIM * 4) + " bytes");
        assertEquals(3, cache.stats().blocks());
        assertTrue(
                cache.stats().bytes() >= 3L * 2 * LAYERS * PrefixCache.BLOCK * KV_DIM * Float.BYTES,
                "counts what its blocks hold: " + cache.stats());
    }
}
