package dev.rolloutlab.engine.model;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.function.IntFunction;

/**
 * Keys and values of token prefixes already computed, shared across requests: blocks of {@value #BLOCK} tokens, each
 * named by a hash chained to the block before it (as vLLM's and llm-d's block hashes are), kept under a byte cap and
 * evicted least recently used. A block keeps its own copy of its keys and values, in a slot of {@link BlockSlots}, so
 * the cap bounds what the cache holds (pointing into the sequence that computed it instead kept that sequence's whole
 * cache alive, many times the cap); a request that hits copies the blocks into its own cache. Blocks belong to one
 * weights version: the first lookup or store under a newer one drops them all, so a prefix computed under v is never
 * reused under v+1. A simulated engine keeps the bookkeeping without keys and values. Not thread-safe: the scheduler
 * thread owns it.
 */
public final class PrefixCache {
    /** Tokens per block: a prefix is reused in whole blocks. */
    public static final int BLOCK = 16;
    /** A block's entry without its keys and values: the map node, the record and its 16 token ids. */
    private static final long ENTRY_BYTES = 160;

    private final long blockBytes;
    /** The cap: as asked, or what the cache held when direct memory had no room for more. */
    private long capBytes;

    private final IntFunction<BlockSlots> slotsOfFloats;
    private final boolean keepsKv;
    /** Access order: the eldest entry is the least recently used block. */
    private final LinkedHashMap<Long, Block> blocks = new LinkedHashMap<>(256, 0.75f, true);

    private long version = Long.MIN_VALUE;
    private long queries, queriedTokens, hitTokens, hits, evictions;

    /** One block: the hash of the block before it, its tokens, and the slot of its keys and values (-1: simulated). */
    private record Block(long parent, int[] tokens, int slot) {}

    /** Where blocks keep keys and values; null for a simulated engine, and until the first store. */
    private BlockSlots slots;

    /** What the cache did so far: lookups, prompt tokens looked up and served, blocks held and evicted. */
    public record Stats(
            long queries, long hits, long queriedTokens, long hitTokens, int blocks, long bytes, long evictions) {
        /** An engine without a prefix cache. */
        public static final Stats NONE = new Stats(0, 0, 0, 0, 0, 0, 0);
    }

    /**
     * A cache of at most {@code capBytes} of keys and values for a model of {@code layers} × {@code kvDim}; with
     * {@code keepsKv} false (a simulated engine) it only remembers which prefixes were computed.
     */
    public PrefixCache(int layers, int kvDim, long capBytes, boolean keepsKv) {
        this(layers, kvDim, capBytes, keepsKv, BlockSlots::new);
    }

    /** The same, its blocks' keys and values in the slots {@code slotsOfFloats} makes for slots of that many floats. */
    PrefixCache(int layers, int kvDim, long capBytes, boolean keepsKv, IntFunction<BlockSlots> slotsOfFloats) {
        if (capBytes <= 0) throw new IllegalArgumentException("a prefix cache needs a positive cap, got " + capBytes);
        this.capBytes = capBytes;
        this.slotsOfFloats = slotsOfFloats;
        this.keepsKv = keepsKv;
        this.blockBytes = keepsKv ? bytesPerBlock(layers, kvDim) : ENTRY_BYTES;
    }

    /** What the cap counts for a block that keeps its keys and values: them, and its entry. */
    public static long bytesPerBlock(int layers, int kvDim) {
        return 2L * layers * BLOCK * kvDim * Float.BYTES + ENTRY_BYTES;
    }

    /** The chained hashes of the whole blocks of {@code tokens[0..len)}: block i's depends on blocks 0..i. */
    public static long[] hashes(int[] tokens, int len) {
        long[] h = new long[len / BLOCK];
        long parent = 0x9E3779B97F4A7C15L;
        for (int b = 0; b < h.length; b++) {
            long x = parent;
            for (int i = b * BLOCK; i < (b + 1) * BLOCK; i++)
                x = (x ^ tokens[i]) * 0xFF51AFD7ED558CCDL + 0x2545F4914F6CDD1DL;
            x ^= x >>> 33;
            x *= 0xC4CEB9FE1A85EC53L;
            x ^= x >>> 33;
            h[b] = parent = x;
        }
        return h;
    }

    /**
     * How many leading tokens of {@code prompt} this cache holds under version {@code v}, in whole blocks and always
     * fewer than the prompt (its last token is computed for its logits); touches nothing and counts nothing.
     */
    public int peek(long[] hashes, int[] prompt, long v) {
        if (v != version) return 0;
        int usable = (prompt.length - 1) / BLOCK, b = 0;
        long parent = 0;
        for (; b < Math.min(usable, hashes.length); b++) {
            Block k = blocks.get(hashes[b]);
            if (k == null || (b > 0 && k.parent != parent) || !same(k.tokens, prompt, b * BLOCK)) break;
            parent = hashes[b];
        }
        return b * BLOCK;
    }

    /**
     * Looks {@code prompt} up under version {@code v} and copies the prefix found into {@code into} (positions from 0);
     * returns its length in tokens, as {@link #peek} would. Counts the lookup.
     */
    public int restore(long[] hashes, int[] prompt, long v, KvCache into) {
        advance(v);
        int n = peek(hashes, prompt, v);
        queries++;
        queriedTokens += prompt.length;
        if (n == 0) return 0;
        hits++;
        hitTokens += n;
        // the deepest block first, the root last: the root, which every deeper block needs, is then the most recently
        // used and is evicted last
        for (int b = n / BLOCK - 1; b >= 0; b--) {
            Block k = blocks.get(hashes[b]);
            if (k.slot >= 0) into.copyIn(slots.chunk(k.slot), slots.offset(k.slot), b * BLOCK, BLOCK);
        }
        return n;
    }

    /**
     * Remembers the whole blocks of {@code tokens[0..len)}, whose keys and values {@code kv} holds at positions
     * {@code [0, len)}, computed under version {@code v}. Blocks already held are only touched; a store under an older
     * version than the cache's is ignored.
     */
    public void store(int[] tokens, int len, long[] hashes, long v, KvCache kv) {
        if (v < version) return;
        advance(v);
        long parent = 0;
        for (int b = 0; b < Math.min(len / BLOCK, hashes.length); b++) {
            long h = hashes[b];
            if (!blocks.containsKey(h)) {
                int slot = -1;
                if (keepsKv) {
                    if (slots == null) slots = slotsOfFloats.apply(kv.floats(BLOCK));
                    slot = slots.take();
                    if (slot < 0) slot = makeRoom();
                    if (slot < 0) break; // nothing held to make room with: the rest of this prompt goes unremembered
                    kv.copyOut(b * BLOCK, BLOCK, slots.chunk(slot), slots.offset(slot));
                }
                blocks.put(h, new Block(parent, Arrays.copyOfRange(tokens, b * BLOCK, (b + 1) * BLOCK), slot));
            }
            parent = h;
        }
        for (int b = Math.min(len / BLOCK, hashes.length) - 1; b >= 0; b--) blocks.get(hashes[b]);
        evict();
    }

    /** Drops every block: the weights changed, so no key or value computed before may be reused. */
    private void advance(long v) {
        if (v == version) return;
        blocks.clear();
        if (slots != null) slots.clear();
        version = v;
    }

    /**
     * Direct memory has no room for another chunk: the cache keeps the size it has (a process of many engines on a
     * small heap would otherwise fail their requests) and takes the slot of its least recently used block; -1 when it
     * holds none.
     */
    private int makeRoom() {
        capBytes = Math.min(capBytes, Math.max(blockBytes, blocks.size() * blockBytes));
        return evictEldest() ? slots.take() : -1;
    }

    private void evict() {
        while (blocks.size() * blockBytes > capBytes) evictEldest();
    }

    /** Drops the least recently used block and frees its slot; false when there is none. */
    private boolean evictEldest() {
        Iterator<Block> eldest = blocks.values().iterator();
        if (!eldest.hasNext()) return false;
        Block gone = eldest.next();
        eldest.remove();
        if (gone.slot >= 0) slots.give(gone.slot);
        evictions++;
        return true;
    }

    private static boolean same(int[] block, int[] prompt, int from) {
        return Arrays.equals(block, 0, BLOCK, prompt, from, from + BLOCK);
    }

    public Stats stats() {
        return new Stats(queries, hits, queriedTokens, hitTokens, blocks.size(), blocks.size() * blockBytes, evictions);
    }
}
