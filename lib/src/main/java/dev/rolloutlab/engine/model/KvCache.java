package dev.rolloutlab.engine.model;

import java.util.Arrays;

/** Keys and values of one sequence, per layer, growing as the sequence does; freed by dropping the reference. */
public final class KvCache {
    final float[][] k;
    final float[][] v;
    private final int kvDim;
    private int capacity;

    public KvCache(int layers, int kvDim, int initialCapacity) {
        this.kvDim = kvDim;
        this.capacity = Math.max(16, initialCapacity);
        k = new float[layers][capacity * kvDim];
        v = new float[layers][capacity * kvDim];
    }

    private KvCache(KvCache other, int length) {
        kvDim = other.kvDim;
        capacity = other.capacity;
        k = new float[other.k.length][];
        v = new float[other.v.length][];
        for (int l = 0; l < k.length; l++) {
            k[l] = Arrays.copyOf(other.k[l], capacity * kvDim);
            v[l] = Arrays.copyOf(other.v[l], capacity * kvDim);
        }
    }

    /** A copy holding the first {@code length} positions; how n samples share one prefill. */
    public KvCache fork(int length) {
        return new KvCache(this, length);
    }

    /** Copies positions {@code [pos, pos + len)} of every layer from {@code src}, growing this cache to hold them. */
    void copyFrom(KvCache src, int pos, int len) {
        ensure(pos + len);
        for (int l = 0; l < k.length; l++) {
            System.arraycopy(src.k[l], pos * kvDim, k[l], pos * kvDim, len * kvDim);
            System.arraycopy(src.v[l], pos * kvDim, v[l], pos * kvDim, len * kvDim);
        }
    }

    void ensure(int positions) {
        if (positions <= capacity) return;
        int next = Math.max(positions, capacity * 2);
        for (int l = 0; l < k.length; l++) {
            k[l] = Arrays.copyOf(k[l], next * kvDim);
            v[l] = Arrays.copyOf(v[l], next * kvDim);
        }
        capacity = next;
    }

    public long bytes() {
        return 2L * k.length * capacity * kvDim * Float.BYTES;
    }
}
