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

    /**
     * Positions {@code [pos, pos + len)} of every layer, its keys then its values, packed into one array of their own:
     * what a prefix cache keeps of a sequence, so the sequence's whole cache can go when it ends.
     */
    float[] slice(int pos, int len) {
        int n = len * kvDim, o = 0;
        float[] out = new float[2 * k.length * n];
        for (int l = 0; l < k.length; l++, o += 2 * n) {
            System.arraycopy(k[l], pos * kvDim, out, o, n);
            System.arraycopy(v[l], pos * kvDim, out, o + n, n);
        }
        return out;
    }

    /** Writes a {@link #slice} back at positions {@code [pos, pos + len)}, growing this cache to hold them. */
    void put(float[] slice, int pos, int len) {
        ensure(pos + len);
        int n = len * kvDim, o = 0;
        for (int l = 0; l < k.length; l++, o += 2 * n) {
            System.arraycopy(slice, o, k[l], pos * kvDim, n);
            System.arraycopy(slice, o + n, v[l], pos * kvDim, n);
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
