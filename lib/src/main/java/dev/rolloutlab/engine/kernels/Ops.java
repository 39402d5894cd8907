package dev.rolloutlab.engine.kernels;

/**
 * The numeric operations of the forward pass: SIMD through the JDK Vector API when the JVM was started with
 * {@code --add-modules jdk.incubator.vector}, scalar loops otherwise; matmul and attention split across cores through
 * {@link Cores}.
 */
public final class Ops {
    static final boolean VECTOR =
            ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                    && !Boolean.getBoolean("rolloutlab.scalar");

    /** Rows of x a tile of {@link #matmul} multiplies at once (the vector kernel's choice; the scalar path follows). */
    static final int TILE_ROWS = VECTOR ? VectorGemm.TILE_ROWS : 4;

    private Ops() {}

    /** Whether every value is finite (no NaN, no infinity), in one pass: SIMD where available. */
    public static boolean allFinite(float[] d) {
        if (VECTOR) return VectorOps.allFinite(d);
        float a = 0, b = 0, c = 0, e = 0;
        int i = 0;
        for (; i + 3 < d.length; i += 4) {
            a += d[i] * 0f;
            b += d[i + 1] * 0f;
            c += d[i + 2] * 0f;
            e += d[i + 3] * 0f;
        }
        for (; i < d.length; i++) a += d[i] * 0f;
        return a + b + c + e == 0f;
    }

    /**
     * y[r][o] = sum_i x[r][i] * w[o][i] + bias[o] for {@code rows} rows of x ([rows][in]), as one GEMM. The work is
     * tiles of {@link #TILE_ROWS} rows by one panel of outputs, claimed by the cores in runs ({@link Cores}). Each
     * output is one FMA chain over i in order, so a row's result is the same bits whichever rows share its batch.
     */
    public static void matmul(float[] x, int rows, PackedMatrix w, float[] y) {
        int panels = PackedMatrix.panelCount(w.out),
                blocks = (rows + TILE_ROWS - 1) / TILE_ROWS,
                tiles = panels * blocks;
        long work = (long) rows * w.in * w.out;
        int parts = Math.min(Cores.parts(), tiles);
        if (work < Cores.PARALLEL_WORK || parts < 2) {
            tiles(x, rows, w, y, 0, tiles);
            return;
        }
        // whole panels per claim when there are many (a panel's weights then stream into one core's cache only)
        int chunk = panels >= Cores.CLAIMS * parts
                ? blocks * (panels / (Cores.CLAIMS * parts))
                : Math.max(1, tiles / (Cores.CLAIMS * parts));
        Cores.share(tiles, chunk, parts, (from, to) -> tiles(x, rows, w, y, from, to));
    }

    private static void tiles(float[] x, int rows, PackedMatrix w, float[] y, int from, int to) {
        if (VECTOR) VectorGemm.tiles(x, rows, w, y, from, to);
        else scalarTiles(x, rows, w, y, from, to);
    }

    /** The same FMA chains as the vector kernel, one output at a time. */
    static void scalarTiles(float[] x, int rows, PackedMatrix w, float[] y, int from, int to) {
        int blocks = (rows + TILE_ROWS - 1) / TILE_ROWS, in = w.in, width = PackedMatrix.PANEL;
        for (int t = from; t < to; t++) {
            int panel = t / blocks, r0 = (t % blocks) * TILE_ROWS, o0 = panel * width, base = o0 * in;
            for (int r = r0; r < Math.min(rows, r0 + TILE_ROWS); r++) {
                for (int o = o0; o < Math.min(w.out, o0 + width); o++) {
                    float acc = 0f;
                    for (int i = 0, wi = base + o - o0; i < in; i++, wi += width) {
                        acc = Math.fma(w.weight(wi), x[r * in + i], acc);
                    }
                    y[r * w.out + o] = w.bias == null ? acc : acc + w.bias[o];
                }
            }
        }
    }

    /**
     * Attention scores of one query against positions {@code [0, len)} of keys stored transposed: {@code scores[t] =
     * scale * sum_d q[qo + d] * keys[ko + d * stride + t]}, one FMA chain over d in order per position, so the scalar
     * and vector paths give the same bits and many positions share each instruction (no horizontal sums).
     */
    public static void scores(
            float[] q, int qo, float[] keys, int ko, int stride, int dims, int len, float scale, float[] scores) {
        if (VECTOR) VectorOps.scores(q, qo, keys, ko, stride, dims, len, scale, scores);
        else scalarScores(q, qo, keys, ko, stride, dims, len, scale, scores);
    }

    static void scalarScores(
            float[] q, int qo, float[] keys, int ko, int stride, int dims, int len, float scale, float[] scores) {
        for (int t = 0; t < len; t++) {
            float acc = 0f;
            for (int d = 0, at = ko + t; d < dims; d++, at += stride) acc = Math.fma(q[qo + d], keys[at], acc);
            scores[t] = acc * scale;
        }
    }

    /**
     * {@code out[oo + d] = sum_t p[t] * values[vo + t * stride + d]} for d in {@code [0, dims)}: attention's weighted
     * sum of value rows, one FMA chain over t in order per dimension, accumulated in registers.
     */
    public static void weightedSum(
            float[] p, int len, float[] values, int vo, int stride, int dims, float[] out, int oo) {
        if (VECTOR) VectorOps.weightedSum(p, len, values, vo, stride, dims, out, oo);
        else scalarWeightedSum(p, len, values, vo, stride, dims, out, oo);
    }

    static void scalarWeightedSum(
            float[] p, int len, float[] values, int vo, int stride, int dims, float[] out, int oo) {
        for (int d = 0; d < dims; d++) {
            float acc = 0f;
            for (int t = 0, at = vo + d; t < len; t++, at += stride) acc = Math.fma(p[t], values[at], acc);
            out[oo + d] = acc;
        }
    }

    /**
     * {@code gate[i] = silu(gate[i]) * up[i]} for i in {@code [0, n)}: the MLP's gated activation, with this class's
     * {@link #exp}, so the vector and scalar paths agree bit for bit.
     */
    public static void silu(float[] gate, float[] up, int n) {
        int i = VECTOR ? VectorOps.silu(gate, up, n) : 0;
        for (; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1f + exp(-g)) * up[i];
        }
    }

    /**
     * {@code out[i] = exp((x[xo + i] - shift) * scale)} for i in {@code [0, n)}: a softmax's or a sampler's weights
     * over a vocabulary, with this class's {@link #exp} on both paths.
     */
    public static void exps(float[] x, int xo, int n, float shift, float scale, float[] out) {
        int i = VECTOR ? VectorOps.exps(x, xo, n, shift, scale, out) : 0;
        for (; i < n; i++) out[i] = exp((x[xo + i] - shift) * scale);
    }

    /** The largest of {@code x[off, off + n)} (NaN if any is NaN): the same value on both paths, in any order. */
    public static float max(float[] x, int off, int n) {
        if (VECTOR) return VectorOps.max(x, off, n);
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        return max;
    }

    /**
     * The sum of {@code x[0, n)} in double: a sampler's normaliser over a vocabulary. The vector path adds in lanes, so
     * its last bits may differ from the scalar path's; no token depends on them.
     */
    public static double sum(float[] x, int n) {
        if (VECTOR) return VectorOps.sum(x, n);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += x[i];
        return sum;
    }

    /** Turns {@code p[0, len)} into its softmax in place: exponentials of the distances to the maximum, normalised. */
    public static void softmax(float[] p, int len) {
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < len; t++) max = Math.max(max, p[t]);
        exps(p, 0, len, max, 1f, p);
        float sum = 0; // in order, on both paths
        for (int t = 0; t < len; t++) sum += p[t];
        float inv = 1f / sum;
        for (int t = 0; t < len; t++) p[t] *= inv;
    }

    /**
     * e^x in float32 within 2 units in the last place, from adds, multiplies and FMAs only (Cephes' expf: x = n ln 2 +
     * r, a degree-7 polynomial in r, times 2^n), so a vector of lanes computes the same bits as this does one at a time
     * whether the code is interpreted or compiled, which the Vector API's own {@code EXP} does not promise.
     */
    public static float exp(float x) {
        if (x < EXP_MIN) return 0f; // a masked logit (-infinity) must weigh nothing
        x = Math.min(x, EXP_MAX);
        float n = Math.fma(x, LOG2E, ROUND) - ROUND;
        float r = Math.fma(-n, LN2_HI, x);
        r = Math.fma(-n, LN2_LO, r);
        float p = Math.fma(EXP_C0, r, EXP_C1);
        p = Math.fma(p, r, EXP_C2);
        p = Math.fma(p, r, EXP_C3);
        p = Math.fma(p, r, EXP_C4);
        p = Math.fma(p, r, EXP_C5);
        p = Math.fma(p * r, r, r) + 1f;
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    /**
     * exp's constants, shared with the vector path. Below EXP_MIN the result is 0 (e^-87 is 1.6e-38, where floats turn
     * subnormal); above EXP_MAX it is clamped so that 2^n stays a finite float.
     */
    static final float EXP_MIN = -87.0f, EXP_MAX = 88.0f, LOG2E = 1.44269504088896341f, ROUND = 0x1.8p23f;

    static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    static final float EXP_C0 = 1.9875691500e-4f, EXP_C1 = 1.3981999507e-3f, EXP_C2 = 8.3334519073e-3f;
    static final float EXP_C3 = 4.1665795894e-2f, EXP_C4 = 1.6666665459e-1f, EXP_C5 = 5.0000001201e-1f;

    public static void rmsnorm(float[] x, int xo, float[] w, float eps, float[] y, int yo, int n) {
        float ss = 0;
        for (int i = 0; i < n; i++) ss += x[xo + i] * x[xo + i];
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) y[yo + i] = x[xo + i] * inv * w[i];
    }
}
