package dev.rolloutlab.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** SIMD versions of the hot loops; only loaded when the incubator module is present (see {@link Ops#VECTOR}). */
final class VectorOps {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorOps() {}

    /** Whether every value is finite: {@code x * 0} is 0 for finite x and NaN otherwise, summed lane-wise. */
    static boolean allFinite(float[] d) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i <= d.length - L; i += L)
            acc = FloatVector.fromArray(S, d, i).mul(0f).add(acc);
        float r = acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        for (; i < d.length; i++) r += d[i] * 0f;
        return r == 0f;
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
        return finish(acc0.add(acc1), a, ao, b, bo, i, n);
    }

    /**
     * Four dot products of one weight row against four input rows, loading the weight row once. Each row's sum is
     * accumulated exactly as {@link #dot} does, so a row's result does not depend on which rows share its batch.
     */
    static void dot4(float[] w, int wo, float[] x, int x0, int x1, int x2, int x3, int n, float[] out) {
        FloatVector a0 = FloatVector.zero(S), b0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S), b1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S), b2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S), b3 = FloatVector.zero(S);
        int i = 0;
        int bound2 = n - 2 * L;
        for (; i <= bound2; i += 2 * L) {
            FloatVector wa = FloatVector.fromArray(S, w, wo + i), wb = FloatVector.fromArray(S, w, wo + i + L);
            a0 = wa.fma(FloatVector.fromArray(S, x, x0 + i), a0);
            b0 = wb.fma(FloatVector.fromArray(S, x, x0 + i + L), b0);
            a1 = wa.fma(FloatVector.fromArray(S, x, x1 + i), a1);
            b1 = wb.fma(FloatVector.fromArray(S, x, x1 + i + L), b1);
            a2 = wa.fma(FloatVector.fromArray(S, x, x2 + i), a2);
            b2 = wb.fma(FloatVector.fromArray(S, x, x2 + i + L), b2);
            a3 = wa.fma(FloatVector.fromArray(S, x, x3 + i), a3);
            b3 = wb.fma(FloatVector.fromArray(S, x, x3 + i + L), b3);
        }
        for (; i <= n - L; i += L) {
            FloatVector wa = FloatVector.fromArray(S, w, wo + i);
            a0 = wa.fma(FloatVector.fromArray(S, x, x0 + i), a0);
            a1 = wa.fma(FloatVector.fromArray(S, x, x1 + i), a1);
            a2 = wa.fma(FloatVector.fromArray(S, x, x2 + i), a2);
            a3 = wa.fma(FloatVector.fromArray(S, x, x3 + i), a3);
        }
        out[0] = finish(a0.add(b0), w, wo, x, x0, i, n);
        out[1] = finish(a1.add(b1), w, wo, x, x1, i, n);
        out[2] = finish(a2.add(b2), w, wo, x, x2, i, n);
        out[3] = finish(a3.add(b3), w, wo, x, x3, i, n);
    }

    private static float finish(FloatVector acc, float[] a, int ao, float[] b, int bo, int i, int n) {
        float s = 0;
        for (int l = 0; l < L; l++) s += acc.lane(l);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    static void axpy(float s, float[] x, int xo, float[] y, int yo, int n) {
        FloatVector sv = FloatVector.broadcast(S, s);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, xo + i)
                    .fma(sv, FloatVector.fromArray(S, y, yo + i))
                    .intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += s * x[xo + i];
    }
}
