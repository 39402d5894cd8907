package dev.rolloutlab.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** SIMD versions of the hot loops; only loaded when the incubator module is present (see {@link Kernels#VECTOR}). */
final class VectorKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorKernels() {
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = FloatVector.zero(S);
        int i = 0;
        int bound2 = n - 2 * L;
        for (; i <= bound2; i += 2 * L) {
            acc0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc0);
            acc1 = FloatVector.fromArray(S, a, ao + i + L).fma(FloatVector.fromArray(S, b, bo + i + L), acc1);
        }
        for (; i <= n - L; i += L) {
            acc0 = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc0);
        }
        // reduceLanes' order differs between interpreted and compiled code; a fixed order keeps results bit-identical
        FloatVector acc = acc0.add(acc1);
        float s = 0;
        for (int l = 0; l < L; l++) s += acc.lane(l);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    static void axpy(float s, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector sv = FloatVector.broadcast(S, s);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, xo + i).fma(sv, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += s * x[xo + i];
    }
}
