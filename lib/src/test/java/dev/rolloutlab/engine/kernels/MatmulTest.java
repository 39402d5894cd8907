package dev.rolloutlab.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The packed GEMM against a plain double-precision product, on shapes that are not multiples of the vector width. */
class MatmulTest {
    /**
     * float32 FMA chains over {@code in} terms: the error is bounded by about {@code in} units of float rounding of the
     * sum of |x w|; 1e-5 of that sum is a margin of 10-100 over that bound for these sizes.
     */
    static final double RELATIVE = 1e-5;

    @ParameterizedTest(name = "out {0}, in {1}, rows {2}, bias {3}")
    @CsvSource({
        "1, 1, 1, false",
        "5, 3, 3, true",
        "40, 20, 10, true",
        "70, 50, 12, false",
        "63, 17, 17, false",
        "65, 33, 3, true",
        "130, 288, 17, true",
        "1000, 97, 17, false",
        "288, 768, 1, false",
        "32000, 48, 3, false"
    })
    void matchesAPlainProductAndARowIsTheSameWhateverItsBatch(int out, int in, int rows, boolean withBias) {
        Random rnd = new Random(out * 31L + in * 7L + rows);
        float[] w = random(rnd, out * in), x = random(rnd, rows * in), bias = withBias ? random(rnd, out) : null;
        PackedMatrix m = PackedMatrix.pack(w, bias, out, in);
        float[] y = new float[rows * out];
        Arrays.fill(y, Float.NaN); // every output must be written
        Ops.matmul(x, rows, m, y);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double exact = withBias ? bias[o] : 0, scale = Math.abs(exact);
                for (int i = 0; i < in; i++) {
                    exact += (double) x[r * in + i] * w[o * in + i];
                    scale += Math.abs((double) x[r * in + i] * w[o * in + i]);
                }
                assertEquals(exact, y[r * out + o], RELATIVE * scale + 1e-30, "row " + r + ", output " + o);
            }
            float[] alone = new float[out];
            Ops.matmul(Arrays.copyOfRange(x, r * in, (r + 1) * in), 1, m, alone);
            assertArrayEquals(alone, Arrays.copyOfRange(y, r * out, (r + 1) * out), "row " + r + " alone vs batched");
        }
        float[] scalar = new float[rows * out];
        Ops.scalarTiles(
                x, rows, m, scalar, 0, PackedMatrix.panelCount(out) * ((rows + Ops.TILE_ROWS - 1) / Ops.TILE_ROWS));
        assertArrayEquals(scalar, y, "the scalar path runs the same FMA chains as the vector one");
        if (Ops.VECTOR) {
            for (boolean halves : new boolean[] {true, false}) {
                float[] tiled = new float[rows * out];
                VectorGemm.tiles(x, rows, m, tiled, 0, VectorGemm.tileCount(rows, out, halves), halves);
                assertArrayEquals(scalar, tiled, "tiles " + (halves ? "over half panels" : "whole") + " alike");
            }
        }
    }

    @ParameterizedTest(name = "out {0}, in {1}, rows {2}")
    @CsvSource({"5, 3, 3", "65, 33, 17", "70, 50, 12", "130, 288, 1"})
    void bf16PanelsComputeWithTheRoundedWeightsExactlyAsFloat32PanelsWould(int out, int in, int rows) {
        Random rnd = new Random(out + 1000L * in);
        float[] w = random(rnd, out * in), x = random(rnd, rows * in), bias = random(rnd, out);
        float[] rounded = new float[w.length];
        for (int i = 0; i < w.length; i++) rounded[i] = Float.intBitsToFloat(PackedMatrix.toBf16(w[i]) << 16);
        float[] y16 = new float[rows * out], y32 = new float[rows * out];
        PackedMatrix half = PackedMatrix.pack(w, bias, out, in, true);
        Ops.matmul(x, rows, half, y16);
        Ops.matmul(x, rows, PackedMatrix.pack(rounded, bias, out, in), y32);
        assertArrayEquals(y32, y16, "widening in registers is exact");
        float[] scalar = new float[rows * out]; // reads each weight out of its pair one at a time
        Ops.scalarTiles(
                x, rows, half, scalar, 0, PackedMatrix.panelCount(out) * ((rows + Ops.TILE_ROWS - 1) / Ops.TILE_ROWS));
        assertArrayEquals(y32, scalar, "the scalar path unpairs the same weights");
        if (Ops.VECTOR) {
            for (boolean halves : new boolean[] {true, false}) {
                float[] tiled = new float[rows * out];
                VectorGemm.tiles(x, rows, half, tiled, 0, VectorGemm.tileCount(rows, out, halves), halves);
                assertArrayEquals(y32, tiled, "bfloat16 tiles " + (halves ? "over half panels" : "whole") + " alike");
            }
        }
        assertEquals(PackedMatrix.pack(w, bias, out, in).bytes(), 2 * half.bytes(), "bf16 panels take half the bytes");
        for (int i = 0; i < w.length; i++) {
            // nearest bfloat16: within half a unit in the last of its 8 significant bits
            assertEquals(w[i], rounded[i], Math.abs(w[i]) * 0x1p-8, "rounding of " + w[i]);
        }
    }

    @ParameterizedTest(name = "{0} x {1}")
    @CsvSource({"4, 3", "1, 5"})
    void refusesAMatrixWhoseSizeIsNotItsShape(int out, int in) {
        var e = assertThrows(IllegalArgumentException.class, () -> PackedMatrix.pack(new float[7], null, out, in));
        assertTrue(e.getMessage().contains(out + " x " + in), e.getMessage());
    }

    static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }
}
