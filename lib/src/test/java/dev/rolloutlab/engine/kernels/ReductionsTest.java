package dev.rolloutlab.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The sampler's passes over a vocabulary: its maximum exactly, its sum of weights to double precision. */
class ReductionsTest {
    @ParameterizedTest(name = "{0} values")
    @ValueSource(ints = {1, 7, 31, 32, 33, 1000, 32000, 32003})
    void maxIsExactAtAnyLengthAndOffset(int n) {
        Random rnd = new Random(n);
        float[] x = MatmulTest.random(rnd, n + 5);
        int at = rnd.nextInt(n);
        x[3 + at] = 7.5f; // above the random values, once, anywhere
        x[2] = x[n + 4] = 100f; // outside the range: must not count
        assertEquals(7.5f, Ops.max(x, 3, n), "largest of " + n + " at " + at);
        x[3 + rnd.nextInt(n)] = Float.NaN;
        assertTrue(Float.isNaN(Ops.max(x, 3, n)), "a NaN logit makes the maximum NaN, as Math.max does");
        float[] masked = new float[n];
        java.util.Arrays.fill(masked, Float.NEGATIVE_INFINITY);
        assertEquals(Float.NEGATIVE_INFINITY, Ops.max(masked, 0, n), "every token masked");
    }

    @ParameterizedTest(name = "{0} values")
    @ValueSource(ints = {1, 7, 33, 32000, 32003})
    void sumAgreesWithAnInOrderDoubleSum(int n) {
        Random rnd = new Random(n);
        float[] x = new float[n + 3];
        double exact = 0;
        for (int i = 0; i < n; i++) exact += x[i] = (float) Math.exp(-20 * rnd.nextDouble()); // weights in (e^-20, 1]
        x[n] = 1e9f; // past n: must not count
        assertEquals(exact, Ops.sum(x, n), exact * 1e-12);
    }
}
