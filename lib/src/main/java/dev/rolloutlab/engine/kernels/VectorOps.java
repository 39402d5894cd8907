package dev.rolloutlab.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** SIMD versions of the hot loops; only loaded when the incubator module is present (see {@link Ops#VECTOR}). */
final class VectorOps {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    private VectorOps() {}

    /** Whether every value is finite: {@code x * 0} is 0 for finite x and NaN otherwise, summed lane-wise. */
    static boolean allFinite(float[] d) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i <= d.length - L; i += L)
            acc = FloatVector.fromArray(S, d, i).mul(0f).add(acc);
        float r = acc.reduceLanes(VectorOperators.ADD);
        for (; i < d.length; i++) r += d[i] * 0f;
        return r == 0f;
    }

    static void scores(
            float[] q, int qo, float[] keys, int ko, int stride, int dims, int len, float scale, float[] scores) {
        int t = 0;
        for (; t <= len - L; t += L) {
            FloatVector acc = FloatVector.zero(S);
            for (int d = 0, at = ko + t; d < dims; d++, at += stride)
                acc = FloatVector.fromArray(S, keys, at).fma(FloatVector.broadcast(S, q[qo + d]), acc);
            acc.mul(scale).intoArray(scores, t);
        }
        if (t == len) return;
        VectorMask<Float> valid = S.indexInRange(t, len);
        FloatVector acc = FloatVector.zero(S);
        for (int d = 0, at = ko + t; d < dims; d++, at += stride)
            acc = FloatVector.fromArray(S, keys, at, valid).fma(FloatVector.broadcast(S, q[qo + d]), acc);
        acc.mul(scale).intoArray(scores, t, valid);
    }

    static void weightedSum(float[] p, int len, float[] values, int vo, int stride, int dims, float[] out, int oo) {
        for (int d = 0; d < dims; d += L) {
            VectorMask<Float> valid = S.indexInRange(d, dims);
            FloatVector acc = FloatVector.zero(S);
            if (valid.allTrue()) {
                for (int t = 0, at = vo + d; t < len; t++, at += stride)
                    acc = FloatVector.fromArray(S, values, at).fma(FloatVector.broadcast(S, p[t]), acc);
                acc.intoArray(out, oo + d);
            } else {
                for (int t = 0, at = vo + d; t < len; t++, at += stride)
                    acc = FloatVector.fromArray(S, values, at, valid).fma(FloatVector.broadcast(S, p[t]), acc);
                acc.intoArray(out, oo + d, valid);
            }
        }
    }

    /** {@link Ops#silu} over whole vectors; returns where the scalar tail starts. */
    static int silu(float[] gate, float[] up, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector g = FloatVector.fromArray(S, gate, i);
            g.div(exp(g.neg()).add(1f)).mul(FloatVector.fromArray(S, up, i)).intoArray(gate, i);
        }
        return i;
    }

    /** {@link Ops#exps} over whole vectors; returns where the scalar tail starts. */
    static int exps(float[] x, int xo, int n, float shift, float scale, float[] out) {
        int i = 0;
        for (; i <= n - L; i += L)
            exp(FloatVector.fromArray(S, x, xo + i).sub(shift).mul(scale)).intoArray(out, i);
        return i;
    }

    /** {@link Ops#exp} lane by lane, the same operations in the same order. */
    private static FloatVector exp(FloatVector x) {
        VectorMask<Float> zero = x.lt(Ops.EXP_MIN);
        x = x.max(Ops.EXP_MIN).min(Ops.EXP_MAX);
        FloatVector n = x.fma(Ops.LOG2E, Ops.ROUND).sub(Ops.ROUND);
        FloatVector r = n.neg().fma(FloatVector.broadcast(S, Ops.LN2_HI), x);
        r = n.neg().fma(FloatVector.broadcast(S, Ops.LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, Ops.EXP_C0).fma(r, FloatVector.broadcast(S, Ops.EXP_C1));
        p = p.fma(r, FloatVector.broadcast(S, Ops.EXP_C2));
        p = p.fma(r, FloatVector.broadcast(S, Ops.EXP_C3));
        p = p.fma(r, FloatVector.broadcast(S, Ops.EXP_C4));
        p = p.fma(r, FloatVector.broadcast(S, Ops.EXP_C5));
        p = p.mul(r).fma(r, r).add(1f);
        IntVector bits =
                ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats()).blend(0f, zero);
    }
}
