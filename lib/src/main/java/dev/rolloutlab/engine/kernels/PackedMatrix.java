package dev.rolloutlab.engine.kernels;

/**
 * A weight matrix in HF Linear's layout ([out][in]) repacked once for {@link Ops#matmul}: panels of {@link #PANEL}
 * outputs, each stored input-major ([in][PANEL]), so the kernel streams a panel front to back and vectorises along
 * outputs with no horizontal sum. The last panel and the bias are padded with zeros. Panels hold float32, or bfloat16
 * that the kernel widens in registers: half the bytes a memory-bound decode step reads.
 */
public final class PackedMatrix {
    /** Outputs per panel: four vectors of the machine's preferred width, or 16 on the scalar path. */
    static final int PANEL = Ops.VECTOR ? VectorGemm.PANEL : 16;

    final int out;
    final int in;
    /** float32 panels, or null when the panels are {@link #bf16}. */
    final float[] panels;
    /**
     * bfloat16 panels (the upper half of a float32's bits) in pairs, or null: of each {@code 2 * PAIR} consecutive
     * weights of a panel row, int k holds weight k in its low half and weight {@code PAIR + k} in its high half. One
     * load of ints and a shift or a mask then widen two vectors of weights, where a vector of shorts needed a widening
     * conversion across lanes, which capped a bfloat16 decode at 1.5x float32's speed.
     */
    final int[] bf16;

    /** Weights of a panel row per half of a {@link #bf16} pair: a vector's lanes (a quarter of a panel). */
    static final int PAIR = PANEL / 4;

    final float[] bias;

    private PackedMatrix(int out, int in, float[] panels, int[] bf16, float[] bias) {
        this.out = out;
        this.in = in;
        this.panels = panels;
        this.bf16 = bf16;
        this.bias = bias;
    }

    /** Packs {@code w} ([out][in], row-major) and its optional {@code bias} ([out]) as float32; nothing is kept. */
    public static PackedMatrix pack(float[] w, float[] bias, int out, int in) {
        return pack(w, bias, out, in, false);
    }

    /**
     * The same, with the weights rounded to bfloat16 (to nearest, ties to even) when {@code bf16}; the bias stays
     * float32, as it does in the engines that serve bfloat16.
     */
    public static PackedMatrix pack(float[] w, float[] bias, int out, int in, boolean bf16) {
        if ((long) out * in != w.length) {
            throw new IllegalArgumentException("matrix of " + w.length + " elements is not " + out + " x " + in);
        }
        int count = panelCount(out);
        float[] p = new float[Math.multiplyExact(count * PANEL, in)];
        // writes in order, reads one element from each of a panel's rows: those rows stay in cache across i
        int dst = 0;
        for (int panel = 0; panel < count; panel++) {
            int o0 = panel * PANEL, width = Math.min(PANEL, out - o0);
            for (int i = 0; i < in; i++, dst += PANEL) {
                for (int j = 0, src = o0 * in + i; j < width; j++, src += in) p[dst + j] = w[src];
            }
        }
        float[] b = null;
        if (bias != null) {
            b = new float[count * PANEL];
            System.arraycopy(bias, 0, b, 0, out);
        }
        if (!bf16) return new PackedMatrix(out, in, p, null, b);
        int[] h = new int[p.length / 2]; // a panel row is 4 PAIRs: whole pairs throughout
        for (int g = 0; g < p.length; g += 2 * PAIR) {
            for (int k = 0; k < PAIR; k++) h[g / 2 + k] = (toBf16(p[g + k]) & 0xffff) | toBf16(p[g + PAIR + k]) << 16;
        }
        return new PackedMatrix(out, in, null, h, b);
    }

    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f); // finite: Weights refuses NaN and infinity before packing
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** The weight at panel index {@code i}, widened to float32 when held as bfloat16 (exactly). */
    float weight(int i) {
        if (panels != null) return panels[i];
        int at = i % (2 * PAIR), pair = bf16[i / (2 * PAIR) * PAIR + at % PAIR];
        return Float.intBitsToFloat(at < PAIR ? pair << 16 : pair & 0xffff0000);
    }

    /** Bytes a pass over the weights reads. */
    public long bytes() {
        return 4L * (panels != null ? panels.length : bf16.length);
    }

    static int panelCount(int out) {
        return (out + PANEL - 1) / PANEL;
    }

    public int out() {
        return out;
    }

    public int in() {
        return in;
    }
}
