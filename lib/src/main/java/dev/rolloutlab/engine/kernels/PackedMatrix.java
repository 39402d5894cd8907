package dev.rolloutlab.engine.kernels;

/**
 * A weight matrix in HF Linear's layout ([out][in]) repacked once for {@link Ops#matmul}: panels of {@link #PANEL}
 * outputs, each stored input-major ([in][PANEL]), so the kernel streams a panel front to back and vectorises along
 * outputs with no horizontal sum. The last panel and the bias are padded with zeros.
 */
public final class PackedMatrix {
    /** Outputs per panel: four vectors of the machine's preferred width, or 16 on the scalar path. */
    static final int PANEL = Ops.VECTOR ? VectorOps.PANEL : 16;

    final int out;
    final int in;
    final float[] panels;
    final float[] bias;

    private PackedMatrix(int out, int in, float[] panels, float[] bias) {
        this.out = out;
        this.in = in;
        this.panels = panels;
        this.bias = bias;
    }

    /** Packs {@code w} ([out][in], row-major) and its optional {@code bias} ([out]); the arrays are not kept. */
    public static PackedMatrix pack(float[] w, float[] bias, int out, int in) {
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
        return new PackedMatrix(out, in, p, b);
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
