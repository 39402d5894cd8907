package dev.rolloutlab.engine.model;

import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.kernels.Cores;
import dev.rolloutlab.engine.kernels.Ops;

/**
 * The decoder forward pass over a batch of rows. A row is one token of one sequence at one position; a step mixes
 * prompt rows (prefill) and single decode rows of many sequences, and every weight matrix is applied to all rows at
 * once. Not thread-safe: the scheduler owns one instance and reuses its scratch buffers.
 */
public final class Transformer implements Forward {
    private final ModelConfig c;
    private final float[] cos;
    private final float[] sin;
    private final int half;
    private float[] x = new float[0], xn = x, q = x, k = x, v = x, att = x, tmp = x, gate = x, up = x, fin = x;

    public Transformer(ModelConfig c) {
        this.c = c;
        half = c.headDim() / 2;
        cos = new float[c.maxPositions() * half];
        sin = new float[c.maxPositions() * half];
        for (int p = 0; p < c.maxPositions(); p++) {
            for (int i = 0; i < half; i++) {
                // float32 like HF: inv_freq = 1 / theta^(2i/d), angle = pos * inv_freq
                float invFreq = (float) (1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headDim()));
                float angle = p * invFreq;
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
    }

    private void ensureScratch(int n, int nLogits) {
        int h = c.hiddenSize();
        if (x.length < n * h) {
            x = new float[n * h];
            xn = new float[n * h];
            tmp = new float[n * h];
            q = new float[n * c.qDim()];
            att = new float[n * c.qDim()];
            k = new float[n * c.kvDim()];
            v = new float[n * c.kvDim()];
            gate = new float[n * c.intermediateSize()];
            up = new float[n * c.intermediateSize()];
        }
        if (fin.length < nLogits * h) fin = new float[nLogits * h];
    }

    /**
     * Runs {@code n} rows through the model, appending their keys and values to their caches, and writes the logits of
     * rows {@code logitRows[0..nLogits)} to {@code logits} ([nLogits][vocab]).
     */
    @Override
    public void forward(
            Weights w,
            int n,
            int decodeRows,
            int[] tokens,
            int[] positions,
            KvCache[] caches,
            int[] logitRows,
            int nLogits,
            float[] logits) {
        Cores.forwardStarted();
        try {
            rows(w, n, tokens, positions, caches, logitRows, nLogits, logits);
        } finally {
            Cores.forwardEnded();
        }
    }

    private void rows(
            Weights w,
            int n,
            int[] tokens,
            int[] positions,
            KvCache[] caches,
            int[] logitRows,
            int nLogits,
            float[] logits) {
        int h = c.hiddenSize(), qd = c.qDim(), kvd = c.kvDim(), inter = c.intermediateSize();
        float eps = (float) c.rmsNormEps();
        ensureScratch(n, nLogits);
        for (int r = 0; r < n; r++) {
            if (tokens[r] < 0 || tokens[r] >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[r] + " outside vocab of " + c.vocabSize());
            }
            if (positions[r] >= c.maxPositions()) {
                throw new IllegalArgumentException(
                        "position " + positions[r] + " beyond max_position_embeddings " + c.maxPositions());
            }
            System.arraycopy(w.embed, tokens[r] * h, x, r * h, h);
            caches[r].ensure(positions[r] + 1);
        }
        long attnWork = 0;
        for (int r = 0; r < n; r++) attnWork += (long) (positions[r] + 1) * qd * 2;
        final long attnWorkF = attnWork;
        for (int l = 0; l < c.numLayers(); l++) {
            Weights.Layer L = w.layers[l];
            for (int r = 0; r < n; r++) Ops.rmsnorm(x, r * h, L.attnNorm(), eps, xn, r * h, h);
            Ops.matmul(xn, n, L.q(), q);
            Ops.matmul(xn, n, L.k(), k);
            Ops.matmul(xn, n, L.v(), v);
            for (int r = 0; r < n; r++) {
                int pos = positions[r];
                for (int hh = 0; hh < c.numHeads(); hh++) rope(q, r * qd + hh * c.headDim(), pos);
                for (int hh = 0; hh < c.numKvHeads(); hh++) rope(k, r * kvd + hh * c.headDim(), pos);
                caches[r].write(l, pos, k, r * kvd, v, r * kvd);
            }
            final int layer = l;
            Cores.parallelFor(n, attnWorkF, r -> attend(layer, r, positions[r], caches[r]));
            Ops.matmul(att, n, L.o(), tmp);
            for (int i = 0; i < n * h; i++) x[i] += tmp[i];
            for (int r = 0; r < n; r++) Ops.rmsnorm(x, r * h, L.mlpNorm(), eps, xn, r * h, h);
            Ops.matmul(xn, n, L.gate(), gate);
            Ops.matmul(xn, n, L.up(), up);
            Ops.silu(gate, up, n * inter);
            Ops.matmul(gate, n, L.down(), tmp);
            for (int i = 0; i < n * h; i++) x[i] += tmp[i];
        }
        for (int i = 0; i < nLogits; i++) Ops.rmsnorm(x, logitRows[i] * h, w.finalNorm, eps, fin, i * h, h);
        Ops.matmul(fin, nLogits, w.lmHead, logits);
    }

    private void rope(float[] a, int off, int pos) {
        int base = pos * half;
        for (int i = 0; i < half; i++) {
            float x1 = a[off + i], x2 = a[off + i + half];
            float cs = cos[base + i], sn = sin[base + i];
            a[off + i] = x1 * cs - x2 * sn;
            a[off + i + half] = x2 * cs + x1 * sn;
        }
    }

    /** Per thread (rows attend in parallel), one row's attention scores: a new array per row and layer was garbage. */
    private final ThreadLocal<float[]> scores = ThreadLocal.withInitial(() -> new float[256]);

    private void attend(int layer, int r, int pos, KvCache cache) {
        int hd = c.headDim(), qd = c.qDim(), kvd = c.kvDim(), len = pos + 1, stride = cache.keyStride();
        int group = c.numHeads() / c.numKvHeads();
        float scale = (float) (1.0 / Math.sqrt(hd));
        float[] keys = cache.k[layer], vals = cache.v[layer];
        float[] p = scores.get();
        if (p.length < len) scores.set(p = new float[Math.max(len, 2 * p.length)]);
        for (int hh = 0; hh < c.numHeads(); hh++) {
            int qo = r * qd + hh * hd;
            int kvo = (hh / group) * hd;
            Ops.scores(q, qo, keys, kvo * stride, stride, hd, len, scale, p);
            Ops.softmax(p, len);
            Ops.weightedSum(p, len, vals, kvo, kvd, hd, att, qo);
        }
    }
}
