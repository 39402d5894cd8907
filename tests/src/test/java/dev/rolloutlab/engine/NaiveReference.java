package dev.rolloutlab.engine;

import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import java.util.Map;

/**
 * A deliberately plain, double-precision Llama/Qwen2 forward pass written straight from the Hugging Face modeling code
 * (rotate-half RoPE, repeat_kv grouping, RMSNorm, SwiGLU), with no batching, caching or SIMD. It shares no code with
 * the engine's Transformer, so agreement between the two checks the kernels and the batching.
 */
final class NaiveReference {
    private final ModelConfig c;
    private final Map<String, Tensor> w;

    NaiveReference(Checkpoint cp) {
        c = cp.config();
        w = cp.weights().tensors();
    }

    /** Logits after the last token of {@code tokens}, recomputing the whole sequence. */
    double[] logits(int[] tokens) {
        int n = tokens.length, h = c.hiddenSize(), hd = c.headDim();
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) x[t] = row("model.embed_tokens.weight", tokens[t]);
        for (int l = 0; l < c.numLayers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] q = new double[n][], k = new double[n][], v = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] xn = rms(x[t], vec(p + "input_layernorm.weight"));
                q[t] = linear(p + "self_attn.q_proj", xn);
                k[t] = linear(p + "self_attn.k_proj", xn);
                v[t] = linear(p + "self_attn.v_proj", xn);
                for (int hh = 0; hh < c.numHeads(); hh++) rope(q[t], hh * hd, t);
                for (int hh = 0; hh < c.numKvHeads(); hh++) rope(k[t], hh * hd, t);
            }
            for (int t = 0; t < n; t++) {
                double[] att = new double[c.qDim()];
                for (int hh = 0; hh < c.numHeads(); hh++) {
                    int kv = hh / (c.numHeads() / c.numKvHeads());
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        double d = 0;
                        for (int i = 0; i < hd; i++) d += q[t][hh * hd + i] * k[u][kv * hd + i];
                        s[u] = d / Math.sqrt(hd);
                        max = Math.max(max, s[u]);
                    }
                    double z = 0;
                    for (int u = 0; u <= t; u++) z += (s[u] = Math.exp(s[u] - max));
                    for (int u = 0; u <= t; u++)
                        for (int i = 0; i < hd; i++) att[hh * hd + i] += s[u] / z * v[u][kv * hd + i];
                }
                double[] o = linear(p + "self_attn.o_proj", att);
                for (int i = 0; i < h; i++) x[t][i] += o[i];
                double[] xn = rms(x[t], vec(p + "post_attention_layernorm.weight"));
                double[] g = linear(p + "mlp.gate_proj", xn), up = linear(p + "mlp.up_proj", xn);
                for (int i = 0; i < g.length; i++) g[i] = g[i] / (1 + Math.exp(-g[i])) * up[i];
                double[] d = linear(p + "mlp.down_proj", g);
                for (int i = 0; i < h; i++) x[t][i] += d[i];
            }
        }
        double[] fin = rms(x[n - 1], vec("model.norm.weight"));
        String head = w.containsKey("lm_head.weight") ? "lm_head" : "model.embed_tokens";
        return linear(head, fin);
    }

    private void rope(double[] a, int off, int pos) {
        int half = c.headDim() / 2;
        for (int i = 0; i < half; i++) {
            double ang = pos / Math.pow(c.ropeTheta(), 2.0 * i / c.headDim());
            double x1 = a[off + i], x2 = a[off + i + half];
            a[off + i] = x1 * Math.cos(ang) - x2 * Math.sin(ang);
            a[off + i + half] = x2 * Math.cos(ang) + x1 * Math.sin(ang);
        }
    }

    private double[] rms(double[] x, double[] weight) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double inv = 1 / Math.sqrt(ss / x.length + c.rmsNormEps());
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * inv * weight[i];
        return y;
    }

    private double[] linear(String name, double[] x) {
        Tensor t = w.get(name + ".weight");
        int out = t.shape()[0], in = t.shape()[1];
        Tensor b = w.get(name + ".bias");
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = b == null ? 0 : b.data()[o];
            for (int i = 0; i < in; i++) s += (double) t.data()[o * in + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    private double[] row(String name, int r) {
        Tensor t = w.get(name);
        int cols = t.shape()[1];
        double[] y = new double[cols];
        for (int i = 0; i < cols; i++) y[i] = t.data()[r * cols + i];
        return y;
    }

    private double[] vec(String name) {
        float[] d = w.get(name).data();
        double[] y = new double[d.length];
        for (int i = 0; i < d.length; i++) y[i] = d[i];
        return y;
    }
}
