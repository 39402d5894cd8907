package dev.rolloutlab.engine.kernels;

import jdk.incubator.vector.DoubleVector;
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

    /** {@link Ops#max} with four independent maxima in flight: one chain would wait on each compare's latency. */
    static float max(float[] x, int off, int n) {
        FloatVector m0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
        int i = 0;
        for (; i <= n - 4 * L; i += 4 * L) {
            m0 = m0.max(FloatVector.fromArray(S, x, off + i));
            m1 = m1.max(FloatVector.fromArray(S, x, off + i + L));
            m2 = m2.max(FloatVector.fromArray(S, x, off + i + 2 * L));
            m3 = m3.max(FloatVector.fromArray(S, x, off + i + 3 * L));
        }
        float max = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) max = Math.max(max, x[off + i]);
        return max;
    }

    private static final VectorSpecies<Double> D = VectorSpecies.of(double.class, S.vectorShape());

    /** {@link Ops#sum}: each vector of floats widened to two of doubles, two sums in flight. */
    static double sum(float[] x, int n) {
        DoubleVector s0 = DoubleVector.zero(D), s1 = s0;
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, i);
            s0 = s0.add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 0));
            s1 = s1.add((DoubleVector) v.convertShape(VectorOperators.F2D, D, 1));
        }
        double sum = s0.add(s1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) sum += x[i];
        return sum;
    }

    /**
     * {@link Ops#scores}, four vectors of positions at a time where they fit: each position's chain over d is the same,
     * but four chains in flight hide an FMA's latency that one alone waits on.
     */
    static void scores(
            float[] q, int qo, float[] keys, int ko, int stride, int dims, int len, float scale, float[] scores) {
        int t = 0;
        for (; t <= len - 4 * L; t += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0, at = ko + t; d < dims; d++, at += stride) {
                FloatVector b = FloatVector.broadcast(S, q[qo + d]);
                a0 = FloatVector.fromArray(S, keys, at).fma(b, a0);
                a1 = FloatVector.fromArray(S, keys, at + L).fma(b, a1);
                a2 = FloatVector.fromArray(S, keys, at + 2 * L).fma(b, a2);
                a3 = FloatVector.fromArray(S, keys, at + 3 * L).fma(b, a3);
            }
            a0.mul(scale).intoArray(scores, t);
            a1.mul(scale).intoArray(scores, t + L);
            a2.mul(scale).intoArray(scores, t + 2 * L);
            a3.mul(scale).intoArray(scores, t + 3 * L);
        }
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

    /**
     * {@link Ops#weightedSum}, two or four vectors of dimensions at a time where they fit, for the same reason as
     * {@link #scores}: the chains over t are the same, several in flight at once.
     */
    static void weightedSum(float[] p, int len, float[] values, int vo, int stride, int dims, float[] out, int oo) {
        int d = 0;
        for (; d <= dims - 4 * L; d += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int t = 0, at = vo + d; t < len; t++, at += stride) {
                FloatVector b = FloatVector.broadcast(S, p[t]);
                a0 = FloatVector.fromArray(S, values, at).fma(b, a0);
                a1 = FloatVector.fromArray(S, values, at + L).fma(b, a1);
                a2 = FloatVector.fromArray(S, values, at + 2 * L).fma(b, a2);
                a3 = FloatVector.fromArray(S, values, at + 3 * L).fma(b, a3);
            }
            a0.intoArray(out, oo + d);
            a1.intoArray(out, oo + d + L);
            a2.intoArray(out, oo + d + 2 * L);
            a3.intoArray(out, oo + d + 3 * L);
        }
        if (d <= dims - 2 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0;
            for (int t = 0, at = vo + d; t < len; t++, at += stride) {
                FloatVector b = FloatVector.broadcast(S, p[t]);
                a0 = FloatVector.fromArray(S, values, at).fma(b, a0);
                a1 = FloatVector.fromArray(S, values, at + L).fma(b, a1);
            }
            a0.intoArray(out, oo + d);
            a1.intoArray(out, oo + d + L);
            d += 2 * L;
        }
        for (; d < dims; d += L) {
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
