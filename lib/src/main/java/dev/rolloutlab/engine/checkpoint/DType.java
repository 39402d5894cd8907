package dev.rolloutlab.engine.checkpoint;

import java.nio.ByteBuffer;

/** Floating-point storage types a safetensors file may use, with conversion to and from float32. */
public enum DType {
    F32(4, "float32"),
    BF16(2, "bfloat16"),
    F16(2, "float16");

    public final int bytes;
    /** The name config.json's {@code torch_dtype} uses. */
    public final String torchName;

    DType(int bytes, String torchName) {
        this.bytes = bytes;
        this.torchName = torchName;
    }

    public static DType parse(String name, String where) {
        return switch (name.toUpperCase()) {
            case "F32", "FLOAT32" -> F32;
            case "BF16", "BFLOAT16" -> BF16;
            case "F16", "FLOAT16" -> F16;
            default ->
                throw new ModelFormatException(where + ": unsupported dtype " + name + " (supported: F32, BF16, F16)");
        };
    }

    /** Reads {@code out.length} values starting at the buffer's position (little-endian). */
    void read(ByteBuffer buf, float[] out) {
        switch (this) {
            case F32 -> buf.asFloatBuffer().get(out);
            case BF16 -> {
                for (int i = 0; i < out.length; i++) out[i] = Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
            }
            case F16 -> {
                for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(buf.getShort());
            }
        }
    }

    void write(ByteBuffer buf, float[] in) {
        switch (this) {
            case F32 -> buf.asFloatBuffer().put(in);
            case BF16 -> {
                for (float v : in) {
                    int bits = Float.floatToRawIntBits(v);
                    // round to nearest even, as torch does
                    int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
                    buf.putShort((short) (rounded >>> 16));
                }
            }
            case F16 -> {
                for (float v : in) buf.putShort(Float.floatToFloat16(v));
            }
        }
    }
}
