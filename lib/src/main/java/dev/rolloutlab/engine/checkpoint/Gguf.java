package dev.rolloutlab.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.kernels.Tensor;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint written as GGUF (version 3), the file llama.cpp loads: its config as llama.cpp's metadata keys, its
 * byte-level BPE tokenizer as {@code tokenizer.ggml.*}, and its tensors under llama.cpp's names, so both engines run
 * the same weights.
 */
public final class Gguf {
    /** The tensor types written: 2-D weights in this type, norms and biases always in float32 as llama.cpp expects. */
    public enum Type {
        F32(0, 4, 0),
        F16(1, 2, 1),
        BF16(30, 2, 32);
        final int ggmlType, bytes, fileType;

        Type(int ggmlType, int bytes, int fileType) {
            this.ggmlType = ggmlType;
            this.bytes = bytes;
            this.fileType = fileType;
        }
    }

    private static final int ALIGNMENT = 32;
    // GGUF's metadata value types
    private static final int UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7, STRING = 8, ARRAY = 9;
    private static final int NORMAL = 1, CONTROL = 3; // tokenizer.ggml.token_type

    private Gguf() {}

    /**
     * Writes {@code out} (atomically: a temporary file moved into place) from a checkpoint's config, tensors and
     * {@code tokenizer.json}; {@code name} goes to {@code general.name}.
     */
    public static void write(
            ModelConfig c, Map<String, Tensor> tensors, JsonNode tokenizer, String name, Type type, Path out)
            throws IOException {
        Map<String, Tensor> named = ggmlTensors(c, tensors);
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, out.getFileName().toString(), ".tmp");
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            Writer w = new Writer(os);
            w.u32(0x46554747); // "GGUF"
            w.u32(3);
            w.u64(named.size());
            List<Runnable> kv = metadata(w, c, tokenizer, name, type);
            w.u64(kv.size());
            kv.forEach(Runnable::run);
            long offset = 0;
            for (var e : named.entrySet()) {
                Tensor t = e.getValue();
                w.string(e.getKey());
                w.u32(t.shape().length);
                for (int d = t.shape().length - 1; d >= 0; d--) w.u64(t.shape()[d]); // innermost first
                Type tt = typeOf(t, type);
                w.u32(tt.ggmlType);
                w.u64(offset);
                offset = align(offset + Tensor.numel(t.shape()) * tt.bytes);
            }
            w.pad();
            for (Tensor t : named.values()) {
                Type tt = typeOf(t, type);
                ByteBuffer b = ByteBuffer.allocate(t.data().length * tt.bytes).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : t.data()) {
                    switch (tt) {
                        case F32 -> b.putFloat(f);
                        case F16 -> b.putShort(Float.floatToFloat16(f));
                        // bfloat16 keeps float32's top half; a bfloat16 checkpoint's values pass through exactly
                        case BF16 -> b.putShort((short) (Float.floatToRawIntBits(f) >>> 16));
                    }
                }
                w.bytes(b.array());
                w.pad();
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Type typeOf(Tensor t, Type weights) {
        return t.shape().length == 1 ? Type.F32 : weights;
    }

    /**
     * The tensors under llama.cpp's names. For Llama, q and k rows are permuted: Hugging Face rotates the halves of a
     * head ({@code rotate_half}), llama.cpp's {@code llama} architecture rotates adjacent pairs; Qwen2 rotates halves
     * in both.
     */
    static Map<String, Tensor> ggmlTensors(ModelConfig c, Map<String, Tensor> hf) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        put(out, "token_embd.weight", hf, "model.embed_tokens.weight");
        boolean pairs = c.architecture() == ModelConfig.Architecture.LLAMA;
        for (int i = 0; i < c.numLayers(); i++) {
            String p = "model.layers." + i + ".", b = "blk." + i + ".";
            put(out, b + "attn_norm.weight", hf, p + "input_layernorm.weight");
            Tensor q = need(hf, p + "self_attn.q_proj.weight"), k = need(hf, p + "self_attn.k_proj.weight");
            out.put(b + "attn_q.weight", pairs ? pairRows(q, c.numHeads(), c.headDim()) : q);
            out.put(b + "attn_k.weight", pairs ? pairRows(k, c.numKvHeads(), c.headDim()) : k);
            put(out, b + "attn_v.weight", hf, p + "self_attn.v_proj.weight");
            if (c.architecture().qkvBias) {
                for (String x : new String[] {"q", "k", "v"})
                    put(out, b + "attn_" + x + ".bias", hf, p + "self_attn." + x + "_proj.bias");
            }
            put(out, b + "attn_output.weight", hf, p + "self_attn.o_proj.weight");
            put(out, b + "ffn_norm.weight", hf, p + "post_attention_layernorm.weight");
            put(out, b + "ffn_gate.weight", hf, p + "mlp.gate_proj.weight");
            put(out, b + "ffn_up.weight", hf, p + "mlp.up_proj.weight");
            put(out, b + "ffn_down.weight", hf, p + "mlp.down_proj.weight");
        }
        put(out, "output_norm.weight", hf, "model.norm.weight");
        // tied embeddings: llama.cpp reads token_embd.weight when output.weight is absent
        if (!c.tieWordEmbeddings()) put(out, "output.weight", hf, "lm_head.weight");
        return out;
    }

    /** Rows of each head reordered from halves (j, j + d/2) to adjacent pairs (2j, 2j + 1). */
    static Tensor pairRows(Tensor w, int heads, int headDim) {
        int cols = w.shape()[1], half = headDim / 2;
        float[] src = w.data(), dst = new float[src.length];
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < half; j++) {
                for (int t = 0; t < 2; t++) {
                    int from = h * headDim + t * half + j, to = h * headDim + 2 * j + t;
                    System.arraycopy(src, from * cols, dst, to * cols, cols);
                }
            }
        }
        return new Tensor(w.name(), w.shape(), dst);
    }

    private static void put(Map<String, Tensor> out, String ggml, Map<String, Tensor> hf, String name) {
        out.put(ggml, need(hf, name));
    }

    private static Tensor need(Map<String, Tensor> hf, String name) {
        Tensor t = hf.get(name);
        if (t == null) throw new ModelFormatException("GGUF export: the checkpoint has no tensor " + name);
        return t;
    }

    private static List<Runnable> metadata(Writer w, ModelConfig c, JsonNode tok, String name, Type type) {
        String a = c.architecture().modelType;
        List<Runnable> kv = new ArrayList<>();
        kv.add(() -> w.kvString("general.architecture", a));
        kv.add(() -> w.kvString("general.name", name));
        kv.add(() -> w.kvU32("general.file_type", type.fileType));
        kv.add(() -> w.kvU32("general.alignment", ALIGNMENT));
        kv.add(() -> w.kvU32(a + ".context_length", c.maxPositions()));
        kv.add(() -> w.kvU32(a + ".embedding_length", c.hiddenSize()));
        kv.add(() -> w.kvU32(a + ".block_count", c.numLayers()));
        kv.add(() -> w.kvU32(a + ".feed_forward_length", c.intermediateSize()));
        kv.add(() -> w.kvU32(a + ".attention.head_count", c.numHeads()));
        kv.add(() -> w.kvU32(a + ".attention.head_count_kv", c.numKvHeads()));
        kv.add(() -> w.kvU32(a + ".attention.key_length", c.headDim()));
        kv.add(() -> w.kvU32(a + ".attention.value_length", c.headDim()));
        kv.add(() -> w.kvU32(a + ".rope.dimension_count", c.headDim()));
        kv.add(() -> w.kvF32(a + ".rope.freq_base", (float) c.ropeTheta()));
        kv.add(() -> w.kvF32(a + ".attention.layer_norm_rms_epsilon", (float) c.rmsNormEps()));
        kv.add(() -> w.kvU32(a + ".vocab_size", c.vocabSize()));

        JsonNode model = tok.path("model");
        if (!"BPE".equals(model.path("type").asText()))
            throw new ModelFormatException("GGUF export: tokenizer.json's model is "
                    + model.path("type").asText() + "; only byte-level BPE is exported");
        String[] tokens = new String[c.vocabSize()];
        int[] types = new int[c.vocabSize()];
        model.path("vocab")
                .properties()
                .forEach(e -> setToken(tokens, types, e.getValue().asInt(), e.getKey(), NORMAL));
        tok.path("added_tokens")
                .forEach(t -> setToken(
                        tokens,
                        types,
                        t.path("id").asInt(),
                        t.path("content").asText(),
                        t.path("special").asBoolean() ? CONTROL : NORMAL));
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] == null) {
                tokens[i] = "[PAD" + i + "]"; // ids the tokenizer never produces, as llama.cpp's converter names them
                types[i] = CONTROL;
            }
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges"))
            merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        kv.add(() -> w.kvString("tokenizer.ggml.model", "gpt2"));
        // the pre-tokenizer regex model init writes is Qwen2's; llama.cpp knows it by this name
        kv.add(() -> w.kvString("tokenizer.ggml.pre", "qwen2"));
        kv.add(() -> w.kvStrings("tokenizer.ggml.tokens", Arrays.asList(tokens)));
        kv.add(() -> w.kvI32s("tokenizer.ggml.token_type", types));
        kv.add(() -> w.kvStrings("tokenizer.ggml.merges", merges));
        kv.add(() -> w.kvU32("tokenizer.ggml.bos_token_id", c.bosTokenId()));
        kv.add(() -> w.kvU32("tokenizer.ggml.eos_token_id", c.eosTokenIds().get(0)));
        kv.add(() -> w.kvBool("tokenizer.ggml.add_bos_token", false));
        return kv;
    }

    private static void setToken(String[] tokens, int[] types, int id, String text, int type) {
        if (id < 0 || id >= tokens.length)
            throw new ModelFormatException(
                    "GGUF export: token id " + id + " (" + text + ") is outside vocab_size " + tokens.length);
        tokens[id] = text;
        types[id] = type;
    }

    private static long align(long n) {
        return (n + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** Little-endian GGUF primitives over a stream, counting what it wrote so it can pad to the alignment. */
    private static final class Writer {
        private final OutputStream os;
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        private long written;

        Writer(OutputStream os) {
            this.os = os;
        }

        void bytes(byte[] b) {
            try {
                os.write(b);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            written += b.length;
        }

        private void scalar(int n) {
            bytes(Arrays.copyOf(scratch.array(), n));
            scratch.clear();
        }

        void u32(long v) {
            scratch.putInt((int) v);
            scalar(4);
        }

        void u64(long v) {
            scratch.putLong(v);
            scalar(8);
        }

        void f32(float v) {
            scratch.putFloat(v);
            scalar(4);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b);
        }

        void pad() {
            int n = (int) (align(written) - written);
            if (n > 0) bytes(new byte[n]);
        }

        void kvU32(String key, long v) {
            string(key);
            u32(UINT32);
            u32(v);
        }

        void kvF32(String key, float v) {
            string(key);
            u32(FLOAT32);
            f32(v);
        }

        void kvBool(String key, boolean v) {
            string(key);
            u32(BOOL);
            bytes(new byte[] {(byte) (v ? 1 : 0)});
        }

        void kvString(String key, String v) {
            string(key);
            u32(STRING);
            string(v);
        }

        void kvStrings(String key, List<String> vs) {
            string(key);
            u32(ARRAY);
            u32(STRING);
            u64(vs.size());
            for (String v : vs) string(v);
        }

        void kvI32s(String key, int[] vs) {
            string(key);
            u32(ARRAY);
            u32(INT32);
            u64(vs.length);
            ByteBuffer b = ByteBuffer.allocate(vs.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int v : vs) b.putInt(v);
            bytes(b.array());
        }
    }
}
