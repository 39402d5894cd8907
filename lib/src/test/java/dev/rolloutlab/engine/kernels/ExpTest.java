package dev.rolloutlab.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The engine's own exponential, and the activation and softmax built on it, against double precision. */
class ExpTest {
    /** Cephes' expf is stated at about 1 unit in the last place; 2 leaves room for the final scaling's rounding. */
    private static final int ULPS = 2;

    @Test
    void expIsWithinTwoUnitsInTheLastPlaceOverTheRangeItServes() {
        for (float x = -87f; x <= 88f; x += 0.0013f) {
            float want = (float) Math.exp(x);
            assertEquals(want, Ops.exp(x), ULPS * Math.ulp(want), "exp(" + x + ")");
        }
        assertEquals(1f, Ops.exp(0f), "exp(0)");
        assertEquals(0f, Ops.exp(-1000f), "far below the range");
        assertEquals(0f, Ops.exp(Float.NEGATIVE_INFINITY), "a masked logit weighs nothing");
        assertTrue(Float.isFinite(Ops.exp(1000f)), "far above the range: clamped, not infinite");
        assertTrue(Float.isNaN(Ops.exp(Float.NaN)), "NaN stays NaN");
    }

    @Test
    void expsOverAVocabularyAreTheScalarExpLaneForLaneMaskedLogitsIncluded() {
        Random rnd = new Random(5);
        int n = 32000 + 7;
        float[] logits = new float[n + 3], out = new float[n];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (rnd.nextGaussian() * 30);
        logits[100] = Float.NEGATIVE_INFINITY;
        Ops.exps(logits, 3, n, 12f, 0.7f, out);
        for (int i = 0; i < n; i++) assertEquals(Ops.exp((logits[3 + i] - 12f) * 0.7f), out[i], "lane " + i);
        assertEquals(0f, out[97], "the masked logit");
    }

    @ParameterizedTest(name = "n = {0}")
    @ValueSource(ints = {1, 15, 16, 17, 100, 768 * 3 + 5})
    void siluMatchesDoublePrecisionAndTheScalarPathBitForBit(int n) {
        Random rnd = new Random(n);
        float[] gate = new float[n], up = new float[n];
        for (int i = 0; i < n; i++) {
            gate[i] = (float) (rnd.nextGaussian() * 6);
            up[i] = (float) rnd.nextGaussian();
        }
        float[] got = gate.clone();
        Ops.silu(got, up, n);
        for (int i = 0; i < n; i++) {
            double g = gate[i], want = g / (1 + Math.exp(-g)) * up[i];
            assertEquals(want, got[i], 4 * Math.ulp((float) want) + 1e-30, "silu at " + i);
            float scalar = gate[i] / (1f + Ops.exp(-gate[i])) * up[i];
            assertEquals(scalar, got[i], "vector lane " + i + " against the scalar path");
        }
    }

    @ParameterizedTest(name = "len = {0}")
    @ValueSource(ints = {1, 3, 16, 17, 129})
    void softmaxSumsToOneAndMatchesDoublePrecision(int len) {
        Random rnd = new Random(len);
        float[] p = new float[len];
        for (int i = 0; i < len; i++) p[i] = (float) (rnd.nextGaussian() * 4);
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float v : p) max = Math.max(max, v);
        for (float v : p) sum += Math.exp(v - max);
        float[] got = p.clone();
        Ops.softmax(got, len);
        for (int i = 0; i < len; i++) {
            double want = Math.exp(p[i] - max) / sum;
            assertEquals(want, got[i], 1e-6 * want + 1e-12, "probability " + i);
        }
    }
}
