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
        assertArrayEquals(want.slice(0, n), into.slice(0, n), "what the hit restored");
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
