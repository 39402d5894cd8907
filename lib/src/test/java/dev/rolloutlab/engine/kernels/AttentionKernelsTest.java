package dev.rolloutlab.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Attention's two kernels against plain double-precision sums, on head sizes and lengths that are not multiples of the
 * vector width, with keys stored transposed inside a wider row as a cache stores them.
 */
class AttentionKernelsTest {
    @ParameterizedTest(name = "dims {0}, positions {1}")
    @CsvSource({"1, 1", "5, 3", "48, 1", "48, 17", "33, 64", "48, 129", "64, 300"})
    void scoresMatchAPlainSumAndTheScalarPathBitForBit(int dims, int len) {
        Random rnd = new Random(dims * 1000L + len);
        int stride = len + 70, ko = 3 * stride; // other dimensions' rows before and after this head's
        float[] q = MatmulTest.random(rnd, dims + 2), keys = MatmulTest.random(rnd, (dims + 6) * stride);
        float scale = 0.125f;
        float[] got = new float[len + 1], scalar = new float[len + 1];
        got[len] = scalar[len] = 42f; // past len nothing is written
        Ops.scores(q, 1, keys, ko, stride, dims, len, scale, got);
        for (int t = 0; t < len; t++) {
            double exact = 0, size = 0;
            for (int d = 0; d < dims; d++) {
                exact += (double) q[1 + d] * keys[ko + d * stride + t];
                size += Math.abs((double) q[1 + d] * keys[ko + d * stride + t]);
            }
            assertEquals(exact * scale, got[t], MatmulTest.RELATIVE * size * scale + 1e-30, "position " + t);
        }
        assertEquals(42f, got[len], "wrote past the last position");
        Ops.scalarScores(q, 1, keys, ko, stride, dims, len, scale, scalar);
        assertArrayEquals(scalar, got, "the scalar path runs the same FMA chains as the vector one");
    }

    @ParameterizedTest(name = "dims {0}, positions {1}")
    @CsvSource({"1, 1", "5, 3", "48, 1", "48, 17", "33, 64", "48, 129", "70, 300"})
    void weightedSumMatchesAPlainSumAndTheScalarPathBitForBit(int dims, int len) {
        Random rnd = new Random(dims * 7L + len);
        int stride = dims * 3 + 1, vo = dims; // a row holds other heads' values too
        float[] p = MatmulTest.random(rnd, len), values = MatmulTest.random(rnd, len * stride + vo);
        float[] got = new float[dims + 4], scalar = new float[dims + 4];
        Arrays.fill(got, 42f);
        Arrays.fill(scalar, 42f);
        Ops.weightedSum(p, len, values, vo, stride, dims, got, 2);
        for (int d = 0; d < dims; d++) {
            double exact = 0, size = 0;
            for (int t = 0; t < len; t++) {
                exact += (double) p[t] * values[vo + t * stride + d];
                size += Math.abs((double) p[t] * values[vo + t * stride + d]);
            }
            assertEquals(exact, got[2 + d], MatmulTest.RELATIVE * size + 1e-30, "dimension " + d);
        }
        assertEquals(42f, got[0], "wrote before its output");
        assertEquals(42f, got[2 + dims], "wrote past its output");
        Ops.scalarWeightedSum(p, len, values, vo, stride, dims, scalar, 2);
        assertArrayEquals(scalar, got, "the scalar path runs the same FMA chains as the vector one");
    }
}
