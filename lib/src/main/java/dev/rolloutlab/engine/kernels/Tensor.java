package dev.rolloutlab.engine.kernels;

import java.util.Arrays;

/** A named float32 tensor in row-major order; the engine keeps every weight as one of these. */
public record Tensor(String name, int[] shape, float[] data) {

    public Tensor {
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape) + " needs " + n
                    + " elements, got " + data.length);
        }
    }

    /**
     * Elements of a tensor of {@code shape}; {@link Long#MAX_VALUE} when the product does not fit a long (no such
     * tensor fits).
     */
    public static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d != 0 && n > Long.MAX_VALUE / d) return Long.MAX_VALUE;
            n *= d;
        }
        return n;
    }

    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
