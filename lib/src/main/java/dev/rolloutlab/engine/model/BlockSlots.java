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

    /** Where chunks come from: direct memory for an engine; a test's may refuse, as exhausted direct memory does. */
    interface Memory {
        /** A buffer of {@code bytes}, or {@link OutOfMemoryError} when none can be had. */
        ByteBuffer allocate(int bytes);
    }

    private final int floatsPerSlot, slotsPerChunk;
    private final Memory memory;
    private final List<FloatBuffer> chunks = new ArrayList<>();
    private int[] free = new int[64];
    private int freeCount, next;
    /**
     * Memory refused a chunk once: not asked again, since each refusal of direct memory first runs a full collection
     * and waits up to half a second.
     */
    private boolean refused;

    BlockSlots(int floatsPerSlot) {
        this(floatsPerSlot, CHUNK_BYTES, ByteBuffer::allocateDirect);
    }

    BlockSlots(int floatsPerSlot, int chunkBytes, Memory memory) {
        this.floatsPerSlot = floatsPerSlot;
        this.slotsPerChunk = Math.max(1, chunkBytes / Float.BYTES / floatsPerSlot);
        this.memory = memory;
    }

    /**
     * A slot no block holds: a freed one, or the next, in a new chunk if need be; -1 when direct memory has no room for
     * another chunk (it bounds every engine's cache of the process together: {@code -XX:MaxDirectMemorySize}, by
     * default the heap's size).
     */
    int take() {
        if (freeCount > 0) return free[--freeCount];
        if (next / slotsPerChunk == chunks.size()) {
            if (refused) return -1;
            try {
                chunks.add(memory.allocate(slotsPerChunk * floatsPerSlot * Float.BYTES)
                        .order(ByteOrder.nativeOrder())
                        .asFloatBuffer());
            } catch (OutOfMemoryError e) {
                refused = true;
                return -1;
            }
        }
        return next++;
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
