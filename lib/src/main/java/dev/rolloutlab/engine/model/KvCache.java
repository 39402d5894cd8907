package dev.rolloutlab.engine.model;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Keys and values of one sequence, per layer, growing as the sequence does; freed by dropping the reference. Keys are
 * kept transposed ({@code [kvDim][capacity]}) so attention reads one key dimension of every position as one run of
 * memory and scores many positions per vector instruction; values stay {@code [capacity][kvDim]}, read a position's row
 * at a time.
 */
public final class KvCache {
    /** Capacity grows in multiples of this, so a vector of positions starting at a multiple of it stays in a row. */
    private static final int ALIGN = 64;

    final float[][] k;
    final float[][] v;
    private final int kvDim;
    private int capacity;

    public KvCache(int layers, int kvDim, int initialCapacity) {
        this.kvDim = kvDim;
        this.capacity = capacityFor(initialCapacity);
        k = new float[layers][capacity * kvDim];
        v = new float[layers][capacity * kvDim];
    }

    private KvCache(KvCache other) {
        kvDim = other.kvDim;
        capacity = other.capacity;
        k = new float[other.k.length][];
        v = new float[other.v.length][];
        for (int l = 0; l < k.length; l++) {
            k[l] = other.k[l].clone();
            v[l] = other.v[l].clone();
        }
    }

    /** The capacity a new cache for {@code positions} positions gets. */
    static int capacityFor(int positions) {
        return aligned(Math.max(16, positions));
    }

    private static int aligned(int positions) {
        return (positions + ALIGN - 1) / ALIGN * ALIGN;
    }

    /** A copy holding the first {@code length} positions; how n samples share one prefill. */
    public KvCache fork(int length) {
        return new KvCache(this);
    }

    /** Distance between one key dimension's row and the next in {@link #k}: the capacity in positions. */
    int keyStride() {
        return capacity;
    }

    /** Stores position {@code pos}'s key and value of {@code layer}, each {@code kvDim} floats from its offset. */
    void write(int layer, int pos, float[] key, int ko, float[] value, int vo) {
        float[] keys = k[layer];
        for (int j = 0, at = pos; j < kvDim; j++, at += capacity) keys[at] = key[ko + j];
        System.arraycopy(value, vo, v[layer], pos * kvDim, kvDim);
    }

    /** Floats a {@link #copyOut} of {@code len} positions takes: every layer's keys and values. */
    int floats(int len) {
        return 2 * k.length * len * kvDim;
    }

    /**
     * Copies positions {@code [pos, pos + len)} of every layer, its keys then its values, packed, into {@code out} from
     * {@code at}: what a prefix cache keeps of a sequence, so the sequence's whole cache can go when it ends.
     */
    void copyOut(int pos, int len, FloatBuffer out, int at) {
        int n = len * kvDim, o = at;
        for (int l = 0; l < k.length; l++, o += 2 * n) {
            for (int j = 0; j < kvDim; j++) out.put(o + j * len, k[l], j * capacity + pos, len);
            out.put(o + n, v[l], pos * kvDim, n);
        }
    }

    /** Writes a {@link #copyOut} from {@code in} at {@code at} back at positions {@code [pos, pos + len)}, growing. */
    void copyIn(FloatBuffer in, int at, int pos, int len) {
        ensure(pos + len);
        int n = len * kvDim, o = at;
        for (int l = 0; l < k.length; l++, o += 2 * n) {
            for (int j = 0; j < kvDim; j++) in.get(o + j * len, k[l], j * capacity + pos, len);
            in.get(o + n, v[l], pos * kvDim, n);
        }
    }

    void ensure(int positions) {
        if (positions <= capacity) return;
        int next = aligned(Math.max(positions, capacity * 2));
        for (int l = 0; l < k.length; l++) {
            float[] keys = new float[next * kvDim];
            for (int j = 0; j < kvDim; j++) System.arraycopy(k[l], j * capacity, keys, j * next, capacity);
            k[l] = keys;
            v[l] = Arrays.copyOf(v[l], next * kvDim);
        }
        capacity = next;
    }

    public long bytes() {
        return 2L * k.length * capacity * kvDim * Float.BYTES;
    }
}
