package dev.rolloutlab.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rolloutlab.engine.checkpoint.ModelFormatException;
import dev.rolloutlab.engine.kernels.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The elements that changed between two versions of the weights: per tensor, flat indices and their new values (not
 * increments, so applying it gives bit-for-bit the weights of the full update). A training step changes a few percent
 * of the elements; this moves those, and names the version it applies to, so it can never land on other weights.
 *
 * <p>Wire format: the 8 bytes {@code RLDELTA1}, a little-endian u32 header length, a JSON header
 * {@code {"base_version": v, "tensors": [{"name": ..., "count": k}, ...]}}, then per tensor in header order k
 * little-endian i32 indices followed by k f32 values.
 */
public record SparseDelta(long baseVersion, Map<String, Entry> tensors) {
    private static final byte[] MAGIC = "RLDELTA1".getBytes(StandardCharsets.US_ASCII);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_HEADER = 16 << 20;

    /** One tensor's changed elements: ascending flat indices and the values they take. */
    public record Entry(int[] indices, float[] values) {
        public Entry {
            if (indices.length != values.length)
                throw new IllegalArgumentException("indices and values differ in length");
        }
    }

    /** Every element of {@code next} that differs (bitwise) from {@code base}; tensors with no change are left out. */
    public static SparseDelta between(long baseVersion, Map<String, Tensor> base, Map<String, Tensor> next) {
        Map<String, Entry> out = new LinkedHashMap<>();
        for (var e : next.entrySet()) {
            Tensor b = base.get(e.getKey());
            if (b == null || !b.sameShape(e.getValue()))
                throw new ModelFormatException("delta: tensor " + e.getKey() + " is not in the base with that shape");
            float[] x = b.data(), y = e.getValue().data();
            int n = 0;
            for (int i = 0; i < y.length; i++) if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) n++;
            if (n == 0) continue;
            int[] idx = new int[n];
            float[] val = new float[n];
            for (int i = 0, k = 0; i < y.length; i++) {
                if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
                    idx[k] = i;
                    val[k++] = y[i];
                }
            }
            out.put(e.getKey(), new Entry(idx, val));
        }
        return new SparseDelta(baseVersion, out);
    }

    public long elements() {
        return tensors.values().stream().mapToLong(e -> e.indices().length).sum();
    }

    public byte[] toBytes() {
        ObjectNode h = JSON.createObjectNode();
        h.put("base_version", baseVersion);
        ArrayNode list = h.putArray("tensors");
        tensors.forEach((name, e) -> list.addObject().put("name", name).put("count", e.indices().length));
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(MAGIC.length + 4 + header.length + 8 * elements()))
                .order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(header.length).put(header);
        for (Entry e : tensors.values()) {
            for (int i : e.indices()) b.putInt(i);
            for (float v : e.values()) b.putFloat(v);
        }
        return b.array();
    }

    /** Whether {@code bytes} start like a delta (rather than a safetensors file). */
    public static boolean looksLike(byte[] bytes) {
        return bytes.length >= MAGIC.length && Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC);
    }

    /** Parses a delta, refusing anything truncated, padded or malformed with the reason. */
    public static SparseDelta parse(byte[] bytes, String where) {
        if (!looksLike(bytes)) throw new ModelFormatException(where + ": not a sparse delta (no RLDELTA1 magic)");
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).position(MAGIC.length);
        if (b.remaining() < 4) throw new ModelFormatException(where + ": truncated before the header length");
        int hl = b.getInt();
        if (hl <= 0 || hl > MAX_HEADER || hl > b.remaining())
            throw new ModelFormatException(where + ": bad header length " + hl + " (truncated?)");
        JsonNode h;
        try {
            byte[] hb = new byte[hl];
            b.get(hb);
            h = JSON.readTree(new String(hb, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ModelFormatException(where + ": delta header is not JSON: " + e.getMessage(), e);
        }
        if (h == null
                || !h.path("base_version").canConvertToLong()
                || !h.path("tensors").isArray()) {
            throw new ModelFormatException(where + ": delta header needs base_version and tensors");
        }
        List<String> names = new ArrayList<>();
        long total = 0;
        for (JsonNode t : h.get("tensors")) {
            long k = t.path("count").asLong(-1);
            if (!t.path("name").isTextual() || k < 0 || k > Integer.MAX_VALUE)
                throw new ModelFormatException(where + ": bad tensor entry " + t);
            names.add(t.get("name").asText());
            total += k;
        }
        if (b.remaining() != 8 * total) {
            throw new ModelFormatException(where + ": body holds " + b.remaining()
                    + " bytes of elements, the header promises " + 8 * total + " (truncated or corrupt)");
        }
        Map<String, Entry> out = new LinkedHashMap<>();
        int i = 0;
        for (JsonNode t : h.get("tensors")) {
            int k = t.get("count").asInt();
            int[] idx = new int[k];
            float[] val = new float[k];
            for (int j = 0; j < k; j++) idx[j] = b.getInt();
            for (int j = 0; j < k; j++) val[j] = b.getFloat();
            if (out.put(names.get(i++), new Entry(idx, val)) != null)
                throw new ModelFormatException(
                        where + ": tensor " + t.get("name").asText() + " appears twice");
        }
        return new SparseDelta(h.get("base_version").asLong(), out);
    }

    /**
     * The full tensors this delta makes of {@code base}: changed tensors copied and patched, checked index by index.
     */
    public Map<String, Tensor> applyTo(Weights base) {
        if (base.version() != baseVersion) {
            throw new VersionConflict(
                    "the delta applies to version " + baseVersion + ", but version " + base.version() + " is serving");
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        tensors.forEach((name, e) -> {
            Tensor t = base.tensors().get(name);
            if (t == null) throw new ModelFormatException("delta names unknown tensor " + name);
            float[] d = t.data().clone();
            int prev = -1;
            for (int j = 0; j < e.indices().length; j++) {
                int i = e.indices()[j];
                if (i <= prev || i >= d.length)
                    throw new ModelFormatException(
                            "delta for " + name + ": index " + i + " out of order or outside [0, " + d.length + ")");
                d[i] = e.values()[j];
                prev = i;
            }
            out.put(name, new Tensor(name, t.shape(), d));
        });
        return out;
    }
}
