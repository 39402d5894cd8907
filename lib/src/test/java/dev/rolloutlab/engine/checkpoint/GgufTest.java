package dev.rolloutlab.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.ModelShape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GGUF file as llama.cpp reads it, read back here by the format's rules: header, metadata, tensor table, aligned
 * data that holds the checkpoint's values. That llama.cpp loads it and computes the same tokens is checked end to end
 * beside node-llama-cpp.
 */
class GgufTest {
    @Test
    void headsAreReorderedFromHalvesToAdjacentPairs() {
        float[] rows = {0, 1, 2, 3, 4, 5, 6, 7}; // two heads of 4, one column
        Tensor t = Gguf.pairRows(new Tensor("q", new int[] {8, 1}, rows), 2, 4);
        assertArrayEquals(new float[] {0, 2, 1, 3, 4, 6, 5, 7}, t.data());
    }

    @Test
    void aTinyCheckpointReadsBackWithItsMetadataTensorsAndValues(@TempDir Path dir) throws Exception {
        ModelConfig c = ModelShape.parse("tiny", ModelConfig.Architecture.LLAMA);
        Checkpoint.init(c, dir, 3, DType.F32);
        Map<String, Tensor> hf = Checkpoint.readTensors(dir);
        Path out = dir.resolve("m.gguf");
        Gguf.write(c, hf, HfJson.MAPPER.readTree(dir.resolve("tokenizer.json").toFile()), "tiny", Gguf.Type.F32, out);

        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x46554747, b.getInt(), "magic GGUF");
        assertEquals(3, b.getInt(), "version");
        long tensors = b.getLong(), kvs = b.getLong();
        assertEquals(2 + 9L * c.numLayers() + (c.tieWordEmbeddings() ? 0 : 1), tensors);
        Map<String, Object> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvs; i++) kv.put(string(b), value(b, b.getInt()));
        assertEquals("llama", kv.get("general.architecture"));
        assertEquals((long) c.numLayers(), kv.get("llama.block_count"));
        assertEquals((long) c.hiddenSize(), kv.get("llama.embedding_length"));
        assertEquals(c.vocabSize(), ((Object[]) kv.get("tokenizer.ggml.tokens")).length);
        assertEquals(
                "<|im_end|>",
                ((Object[]) kv.get("tokenizer.ggml.tokens"))[c.eosTokenIds().get(0)]);

        Map<String, long[]> table = new LinkedHashMap<>(); // name -> {offset, elements, type}
        for (long i = 0; i < tensors; i++) {
            String name = string(b);
            int dims = b.getInt();
            long n = 1;
            for (int d = 0; d < dims; d++) n *= b.getLong();
            int type = b.getInt();
            table.put(name, new long[] {b.getLong(), n, type});
        }
        int data = (b.position() + 31) / 32 * 32;
        long[] embd = table.get("token_embd.weight");
        assertEquals(0, embd[0] % 32, "aligned");
        assertEquals(0L, embd[2], "float32");
        Tensor e = hf.get("model.embed_tokens.weight");
        assertEquals(e.data().length, embd[1]);
        for (int i = 0; i < 16; i++) assertEquals(e.data()[i], b.getFloat(data + (int) embd[0] + 4 * i));
        long[] last = table.values().stream().reduce((x, y) -> y).orElseThrow();
        assertEquals(
                Files.size(out), data + (last[0] + 4 * last[1] + 31) / 32 * 32, "the data ends where the table says");
    }

    private static String string(ByteBuffer b) {
        byte[] s = new byte[(int) b.getLong()];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static Object value(ByteBuffer b, int type) {
        return switch (type) {
            case 4 -> Integer.toUnsignedLong(b.getInt());
            case 5 -> b.getInt();
            case 6 -> b.getFloat();
            case 7 -> b.get() != 0;
            case 8 -> string(b);
            case 9 -> {
                int t = b.getInt();
                Object[] a = new Object[(int) b.getLong()];
                for (int i = 0; i < a.length; i++) a[i] = value(b, t);
                yield a;
            }
            default -> throw new AssertionError("unexpected GGUF value type " + type);
        };
    }
}
