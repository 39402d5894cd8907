package dev.rolloutlab.engine.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fixed-size slots for the prefix cache's blocks of keys and values, in chunks of direct memory allocated as the cache
 * first grows and then kept: an evicted block's slot holds the next one. The collector never sees them: a new array per
 * block, and then arrays of slots while the caches filled, made it copy them from the young generation to the old
 * (serve's four caches: a 0.3-0.8 s pause every 20-40 s under the groups workload, every engine stopped meanwhile).
 * Freed when the cache is unreachable. Not thread-safe: the cache's owner holds it.
 */
final class BlockSlots {
    /** About this many bytes per chunk: a few allocations as the cache fills, none after. */
    private static final int CHUNK_BYTES = 8 << 20;

    private final int floatsPerSlot, slotsPerChunk;
    private final List<FloatBuffer> chunks = new ArrayList<>();
    private int[] free = new int[64];
    private int freeCount, next;

    BlockSlots(int floatsPerSlot) {
        this.floatsPerSlot = floatsPerSlot;
        this.slotsPerChunk = Math.max(1, CHUNK_BYTES / Float.BYTES / floatsPerSlot);
    }

    /** A slot no block holds: a freed one, or the next, in a new chunk if need be. */
    int take() {
        if (freeCount > 0) return free[--freeCount];
        int s = next++;
        if (s / slotsPerChunk == chunks.size())
            chunks.add(ByteBuffer.allocateDirect(slotsPerChunk * floatsPerSlot * Float.BYTES)
                    .order(ByteOrder.nativeOrder())
                    .asFloatBuffer());
        return s;
    }

    void give(int slot) {
        if (freeCount == free.length) free = Arrays.copyOf(free, 2 * free.length);
        free[freeCount++] = slot;
    }

    /** Every slot free again (the chunks stay). */
    void clear() {
        freeCount = 0;
        next = 0;
    }

    FloatBuffer chunk(int slot) {
        return chunks.get(slot / slotsPerChunk);
    }

    /** Where {@code slot} starts in its chunk, in floats. */
    int offset(int slot) {
        return (slot % slotsPerChunk) * floatsPerSlot;
    }
}
