package dev.rolloutlab.engine.model;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Finished sequences' key and value caches, kept for the next requests of the same size: a GRPO group of eight
 * 480-token prompts allocated 56 MB of fresh caches a step on {@code small}, and serve's collector paused its engines
 * for tens of ms to copy them. Used by one engine's scheduler thread only. A cache given back still holds its last
 * sequence's values; a sequence reads only the positions it wrote.
 */
public final class KvPool {
    private final int layers, kvDim;
    private final long capBytes;
    private final Map<Integer, ArrayDeque<KvCache>> free = new HashMap<>();
    private long bytes;

    /** Keeps at most {@code capBytes} of free caches of {@code layers} layers of {@code kvDim} floats a position. */
    public KvPool(int layers, int kvDim, long capBytes) {
        this.layers = layers;
        this.kvDim = kvDim;
        this.capBytes = capBytes;
    }

    /** A cache for at least {@code positions} positions: a kept one of exactly the size a new one would get, or new. */
    public KvCache take(int positions) {
        ArrayDeque<KvCache> kept = free.get(KvCache.capacityFor(positions));
        KvCache c = kept == null ? null : kept.poll();
        if (c == null) return new KvCache(layers, kvDim, positions);
        bytes -= c.bytes();
        return c;
    }

    /** Gives back a cache no sequence uses any more; past the cap it is left to the collector. */
    public void give(KvCache c) {
        long b = c.bytes();
        if (bytes + b > capBytes) return;
        free.computeIfAbsent(c.keyStride(), k -> new ArrayDeque<>()).push(c);
        bytes += b;
    }

    /** Bytes held by free caches now. */
    public long bytes() {
        return bytes;
    }
}
