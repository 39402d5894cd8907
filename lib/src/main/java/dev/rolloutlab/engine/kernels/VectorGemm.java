package dev.rolloutlab.engine.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector tiles of {@link Ops#matmul}: a tile multiplies a few rows of x by a panel of a {@link PackedMatrix}, or by
 * half of one, with one accumulator per row and vector of outputs held in registers; loaded only with the incubator
 * module, as {@link VectorOps} is.
 */
final class VectorGemm {
    private static final VectorSpecies<Float> S = VectorOps.S;
    private static final int L = VectorOps.L;
    private static final VectorSpecies<Integer> INT = VectorSpecies.of(int.class, S.vectorShape());

    private VectorGemm() {}

    /** Outputs per panel of a {@link PackedMatrix}: four vectors, sixteen accumulators for a tile of four rows. */
    static final int PANEL = 4 * L;

    /**
     * Tiles {@code [from, to)} of {@link Ops#matmul}, panel-major so a panel stays in cache across its row blocks.
     *
     * <p>No vector crosses a method call here: a vector passed to or returned from a call the compiler did not inline
     * is boxed on the heap, and whether it inlines depends on what it compiled first (serve's JIT once left a bfloat16
     * load and the stores out of line and allocated 15 GB a minute in this loop; the JVM beside it, none). So each tile
     * loads its weights and stores its results in its own body.
     */
    static void tiles(float[] x, int rows, PackedMatrix w, float[] y, int from, int to) {
        tiles(x, rows, w, y, from, to, HALVES);
    }

    /**
     * The same, with tiles of six rows over half a panel, or four rows over a whole one (the tests run both on any
     * machine; {@link #tileCount} says how many tiles a product has either way).
     */
    static void tiles(float[] x, int rows, PackedMatrix w, float[] y, int from, int to, boolean halves) {
        int step = halves ? 6 : 4, blocks = (rows + step - 1) / step;
        for (int t = from; t < to; t++) {
            int panel = t / blocks, r = (t % blocks) * step, o0 = panel * PANEL;
            if (halves && r + 6 <= rows) {
                tile6Half(x, r, w, y, o0);
                tile6Half(x, r, w, y, o0 + 2 * L);
                continue;
            }
            if (r + 4 <= rows) {
                if (halves) {
                    tile4Half(x, r, w, y, o0);
                    tile4Half(x, r, w, y, o0 + 2 * L);
                } else tile4(x, r, w, y, o0);
                r += 4;
            }
            for (; r < Math.min(rows, (t % blocks + 1) * step); r++) tile1(x, r, w, y, o0);
        }
    }

    /** Tiles of a product of {@code rows} rows into {@code out} outputs, with {@link #tiles}' choice of tile. */
    static int tileCount(int rows, int out, boolean halves) {
        int step = halves ? 6 : 4;
        return PackedMatrix.panelCount(out) * ((rows + step - 1) / step);
    }

    /**
     * Whether tiles run over half a panel at a time: a whole panel's four weight vectors, a broadcast and four rows'
     * sixteen accumulators need 21 registers, and 256-bit machines (AVX2) have 16, so the compiler spilled accumulators
     * in the inner loop. Half a panel leaves room for six rows: twelve independent FMA chains, as many as two FMA units
     * of five cycles' latency need to stay busy (four rows gave eight). Each output's FMA chain is the same either way.
     */
    static final boolean HALVES = S.vectorBitSize() == 256;

    /** Rows a tile multiplies at once on this machine. */
    static final int TILE_ROWS = HALVES ? 6 : 4;

    private static void tile4(float[] x, int r0, PackedMatrix w, float[] y, int o0) {
        int in = w.in;
        float[] f32 = w.panels;
        int[] bf16 = w.bf16;
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int x0 = r0 * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        for (int i = 0, wi = o0 * in; i < in; i++, wi += PANEL) {
            FloatVector w0, w1, w2, w3;
            // bfloat16 is the upper half of a float32's bits, widened in registers (see PackedMatrix.bf16); the test
            // is loop-invariant, so the compiler unswitches the loop
            if (f32 != null) {
                w0 = FloatVector.fromArray(S, f32, wi);
                w1 = FloatVector.fromArray(S, f32, wi + L);
                w2 = FloatVector.fromArray(S, f32, wi + 2 * L);
                w3 = FloatVector.fromArray(S, f32, wi + 3 * L);
            } else {
                // two vectors of weights per load of pairs: the low halves shifted up, the high halves masked
                IntVector p01 = IntVector.fromArray(INT, bf16, wi >> 1);
                IntVector p23 = IntVector.fromArray(INT, bf16, (wi >> 1) + L);
                w0 = p01.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                w1 = p01.lanewise(VectorOperators.AND, 0xffff0000).reinterpretAsFloats();
                w2 = p23.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                w3 = p23.lanewise(VectorOperators.AND, 0xffff0000).reinterpretAsFloats();
            }
            FloatVector b = FloatVector.broadcast(S, x[x0 + i]);
            c00 = w0.fma(b, c00);
            c01 = w1.fma(b, c01);
            c02 = w2.fma(b, c02);
            c03 = w3.fma(b, c03);
            b = FloatVector.broadcast(S, x[x1 + i]);
            c10 = w0.fma(b, c10);
            c11 = w1.fma(b, c11);
            c12 = w2.fma(b, c12);
            c13 = w3.fma(b, c13);
            b = FloatVector.broadcast(S, x[x2 + i]);
            c20 = w0.fma(b, c20);
            c21 = w1.fma(b, c21);
            c22 = w2.fma(b, c22);
            c23 = w3.fma(b, c23);
            b = FloatVector.broadcast(S, x[x3 + i]);
            c30 = w0.fma(b, c30);
            c31 = w1.fma(b, c31);
            c32 = w2.fma(b, c32);
            c33 = w3.fma(b, c33);
        }
        int out = w.out, y0 = r0 * out + o0, y1 = y0 + out, y2 = y1 + out, y3 = y2 + out;
        if (o0 + PANEL <= out && w.bias == null) {
            c00.intoArray(y, y0);
            c01.intoArray(y, y0 + L);
            c02.intoArray(y, y0 + 2 * L);
            c03.intoArray(y, y0 + 3 * L);
            c10.intoArray(y, y1);
            c11.intoArray(y, y1 + L);
            c12.intoArray(y, y1 + 2 * L);
            c13.intoArray(y, y1 + 3 * L);
            c20.intoArray(y, y2);
            c21.intoArray(y, y2 + L);
            c22.intoArray(y, y2 + 2 * L);
            c23.intoArray(y, y2 + 3 * L);
            c30.intoArray(y, y3);
            c31.intoArray(y, y3 + L);
            c32.intoArray(y, y3 + 2 * L);
            c33.intoArray(y, y3 + 3 * L);
            return;
        }
        // the matrix's last, partial panel, or one with a bias: through this thread's spill, lane by lane
        float[] s = SPILL.get();
        c00.intoArray(s, 0);
        c01.intoArray(s, L);
        c02.intoArray(s, 2 * L);
        c03.intoArray(s, 3 * L);
        c10.intoArray(s, PANEL);
        c11.intoArray(s, PANEL + L);
        c12.intoArray(s, PANEL + 2 * L);
        c13.intoArray(s, PANEL + 3 * L);
        c20.intoArray(s, 2 * PANEL);
        c21.intoArray(s, 2 * PANEL + L);
        c22.intoArray(s, 2 * PANEL + 2 * L);
        c23.intoArray(s, 2 * PANEL + 3 * L);
        c30.intoArray(s, 3 * PANEL);
        c31.intoArray(s, 3 * PANEL + L);
        c32.intoArray(s, 3 * PANEL + 2 * L);
        c33.intoArray(s, 3 * PANEL + 3 * L);
        for (int r = 0; r < 4; r++) storeSpilled(s, r * PANEL, PANEL, w, y, (r0 + r) * out, o0);
    }

    /** Six rows of the two vectors of outputs from {@code o0}: half a panel (see {@link #HALVES}). */
    private static void tile6Half(float[] x, int r0, PackedMatrix w, float[] y, int o0) {
        int in = w.in, panelStart = o0 - o0 % PANEL, lane = o0 - panelStart;
        float[] f32 = w.panels;
        int[] bf16 = w.bf16;
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        int x0 = r0 * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in, x4 = x3 + in, x5 = x4 + in;
        for (int i = 0, wi = panelStart * in + lane; i < in; i++, wi += PANEL) {
            FloatVector w0, w1;
            if (f32 != null) {
                w0 = FloatVector.fromArray(S, f32, wi);
                w1 = FloatVector.fromArray(S, f32, wi + L);
            } else {
                IntVector pair = IntVector.fromArray(INT, bf16, wi >> 1);
                w0 = pair.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                w1 = pair.lanewise(VectorOperators.AND, 0xffff0000).reinterpretAsFloats();
            }
            FloatVector b = FloatVector.broadcast(S, x[x0 + i]);
            c00 = w0.fma(b, c00);
            c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(S, x[x1 + i]);
            c10 = w0.fma(b, c10);
            c11 = w1.fma(b, c11);
            b = FloatVector.broadcast(S, x[x2 + i]);
            c20 = w0.fma(b, c20);
            c21 = w1.fma(b, c21);
            b = FloatVector.broadcast(S, x[x3 + i]);
            c30 = w0.fma(b, c30);
            c31 = w1.fma(b, c31);
            b = FloatVector.broadcast(S, x[x4 + i]);
            c40 = w0.fma(b, c40);
            c41 = w1.fma(b, c41);
            b = FloatVector.broadcast(S, x[x5 + i]);
            c50 = w0.fma(b, c50);
            c51 = w1.fma(b, c51);
        }
        int out = w.out, y0 = r0 * out + o0;
        if (o0 + 2 * L <= out && w.bias == null) {
            c00.intoArray(y, y0);
            c01.intoArray(y, y0 + L);
            c10.intoArray(y, y0 + out);
            c11.intoArray(y, y0 + out + L);
            c20.intoArray(y, y0 + 2 * out);
            c21.intoArray(y, y0 + 2 * out + L);
            c30.intoArray(y, y0 + 3 * out);
            c31.intoArray(y, y0 + 3 * out + L);
            c40.intoArray(y, y0 + 4 * out);
            c41.intoArray(y, y0 + 4 * out + L);
            c50.intoArray(y, y0 + 5 * out);
            c51.intoArray(y, y0 + 5 * out + L);
            return;
        }
        float[] s = SPILL.get();
        c00.intoArray(s, 0);
        c01.intoArray(s, L);
        c10.intoArray(s, 2 * L);
        c11.intoArray(s, 3 * L);
        c20.intoArray(s, 4 * L);
        c21.intoArray(s, 5 * L);
        c30.intoArray(s, 6 * L);
        c31.intoArray(s, 7 * L);
        c40.intoArray(s, 8 * L);
        c41.intoArray(s, 9 * L);
        c50.intoArray(s, 10 * L);
        c51.intoArray(s, 11 * L);
        for (int r = 0; r < 6; r++) storeSpilled(s, r * 2 * L, 2 * L, w, y, (r0 + r) * out, o0);
    }

    /** Four rows of the two vectors of outputs from {@code o0}: half a panel (see {@link #HALVES}). */
    private static void tile4Half(float[] x, int r0, PackedMatrix w, float[] y, int o0) {
        int in = w.in, panelStart = o0 - o0 % PANEL, lane = o0 - panelStart;
        float[] f32 = w.panels;
        int[] bf16 = w.bf16;
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00;
        FloatVector c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        int x0 = r0 * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        for (int i = 0, wi = panelStart * in + lane; i < in; i++, wi += PANEL) {
            FloatVector w0, w1;
            if (f32 != null) {
                w0 = FloatVector.fromArray(S, f32, wi);
                w1 = FloatVector.fromArray(S, f32, wi + L);
            } else {
                IntVector pair = IntVector.fromArray(INT, bf16, wi >> 1);
                w0 = pair.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                w1 = pair.lanewise(VectorOperators.AND, 0xffff0000).reinterpretAsFloats();
            }
            FloatVector b = FloatVector.broadcast(S, x[x0 + i]);
            c00 = w0.fma(b, c00);
            c01 = w1.fma(b, c01);
            b = FloatVector.broadcast(S, x[x1 + i]);
            c10 = w0.fma(b, c10);
            c11 = w1.fma(b, c11);
            b = FloatVector.broadcast(S, x[x2 + i]);
            c20 = w0.fma(b, c20);
            c21 = w1.fma(b, c21);
            b = FloatVector.broadcast(S, x[x3 + i]);
            c30 = w0.fma(b, c30);
            c31 = w1.fma(b, c31);
        }
        int out = w.out, y0 = r0 * out + o0, y1 = y0 + out, y2 = y1 + out, y3 = y2 + out;
        if (o0 + 2 * L <= out && w.bias == null) {
            c00.intoArray(y, y0);
            c01.intoArray(y, y0 + L);
            c10.intoArray(y, y1);
            c11.intoArray(y, y1 + L);
            c20.intoArray(y, y2);
            c21.intoArray(y, y2 + L);
            c30.intoArray(y, y3);
            c31.intoArray(y, y3 + L);
            return;
        }
        float[] s = SPILL.get();
        c00.intoArray(s, 0);
        c01.intoArray(s, L);
        c10.intoArray(s, PANEL);
        c11.intoArray(s, PANEL + L);
        c20.intoArray(s, 2 * PANEL);
        c21.intoArray(s, 2 * PANEL + L);
        c30.intoArray(s, 3 * PANEL);
        c31.intoArray(s, 3 * PANEL + L);
        for (int r = 0; r < 4; r++) storeSpilled(s, r * PANEL, 2 * L, w, y, (r0 + r) * out, o0);
    }

    private static void tile1(float[] x, int r, PackedMatrix w, float[] y, int o0) {
        int in = w.in, xr = r * in;
        float[] f32 = w.panels;
        int[] bf16 = w.bf16;
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        for (int i = 0, wi = o0 * in; i < in; i++, wi += PANEL) {
            FloatVector w0, w1, w2, w3;
            if (f32 != null) {
                w0 = FloatVector.fromArray(S, f32, wi);
                w1 = FloatVector.fromArray(S, f32, wi + L);
                w2 = FloatVector.fromArray(S, f32, wi + 2 * L);
                w3 = FloatVector.fromArray(S, f32, wi + 3 * L);
            } else {
                // two vectors of weights per load of pairs: the low halves shifted up, the high halves masked
                IntVector p01 = IntVector.fromArray(INT, bf16, wi >> 1);
                IntVector p23 = IntVector.fromArray(INT, bf16, (wi >> 1) + L);
                w0 = p01.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                w1 = p01.lanewise(VectorOperators.AND, 0xffff0000).reinterpretAsFloats();
                w2 = p23.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
                w3 = p23.lanewise(VectorOperators.AND, 0xffff0000).reinterpretAsFloats();
            }
            FloatVector b = FloatVector.broadcast(S, x[xr + i]);
            c0 = w0.fma(b, c0);
            c1 = w1.fma(b, c1);
            c2 = w2.fma(b, c2);
            c3 = w3.fma(b, c3);
        }
        int yo = r * w.out + o0;
        if (o0 + PANEL <= w.out && w.bias == null) {
            c0.intoArray(y, yo);
            c1.intoArray(y, yo + L);
            c2.intoArray(y, yo + 2 * L);
            c3.intoArray(y, yo + 3 * L);
            return;
        }
        float[] s = SPILL.get();
        c0.intoArray(s, 0);
        c1.intoArray(s, L);
        c2.intoArray(s, 2 * L);
        c3.intoArray(s, 3 * L);
        storeSpilled(s, 0, PANEL, w, y, r * w.out, o0);
    }

    /** Per thread, a tile's accumulators on their way to a partial panel's outputs or a biased one's. */
    private static final ThreadLocal<float[]> SPILL = ThreadLocal.withInitial(() -> new float[4 * PANEL]); // >= 12 L

    /** One row of a spilled tile into {@code y}: its {@code width} outputs from {@code o0} that exist, plus bias. */
    private static void storeSpilled(float[] s, int so, int width, PackedMatrix w, float[] y, int yo, int o0) {
        int n = Math.min(width, w.out - o0);
        float[] bias = w.bias;
        for (int j = 0; j < n; j++) y[yo + o0 + j] = bias == null ? s[so + j] : s[so + j] + bias[o0 + j];
    }
}
