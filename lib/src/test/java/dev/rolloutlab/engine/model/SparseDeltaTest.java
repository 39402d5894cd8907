package dev.rolloutlab.engine.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.engine.checkpoint.ModelFormatException;
import dev.rolloutlab.engine.kernels.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sparse delta's wire format: exactly the changed elements, and nothing truncated or padded gets through. */
class SparseDeltaTest {
    private static Map<String, Tensor> weights(float... extra) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("a", new Tensor("a", new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}));
        m.put("b", new Tensor("b", new int[] {4}, extra.length == 0 ? new float[] {7, 8, 9, 10} : extra));
        return m;
    }

    @Test
    void onlyChangedElementsTravelAndComeBackExactly() {
        Map<String, Tensor> base = weights(), next = weights(7, -0.0f, 9, Float.MIN_VALUE);
        SparseDelta d = SparseDelta.between(3, base, next);
        assertFalse(d.tensors().containsKey("a"));
        assertArrayEquals(new int[] {1, 3}, d.tensors().get("b").indices());
        SparseDelta back = SparseDelta.parse(d.toBytes(), "test");
        assertEquals(3, back.baseVersion());
        assertArrayEquals(
                d.tensors().get("b").indices(), back.tensors().get("b").indices());
        // -0.0 differs from 8 and survives bit for bit
        assertEquals(
                Float.floatToRawIntBits(-0.0f),
                Float.floatToRawIntBits(back.tensors().get("b").values()[0]));
        byte[] bytes = d.toBytes();
        int header = java.nio.ByteBuffer.wrap(bytes, 8, 4)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .getInt();
        assertEquals(
                8 + 4 + header + 8 * 2,
                bytes.length,
                "8 bytes per changed element after the magic, the length and the header");
    }

    @Test
    void truncatedPaddedOrForeignBodiesAreRefusedWithTheReason() {
        byte[] ok = SparseDelta.between(0, weights(), weights(0, 0, 0, 0)).toBytes();
        var e = assertThrows(
                ModelFormatException.class, () -> SparseDelta.parse(Arrays.copyOf(ok, ok.length - 3), "body"));
        assertTrue(e.getMessage().contains("truncated or corrupt"), e.getMessage());
        assertThrows(ModelFormatException.class, () -> SparseDelta.parse(Arrays.copyOf(ok, ok.length + 8), "body"));
        assertThrows(ModelFormatException.class, () -> SparseDelta.parse(Arrays.copyOf(ok, 10), "body"));
        assertThrows(ModelFormatException.class, () -> SparseDelta.parse("{\"not\":\"a delta\"}".getBytes(), "body"));
        assertFalse(SparseDelta.looksLike(new byte[] {1, 2, 3}));
    }
}
