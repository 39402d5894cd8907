package dev.rolloutlab.engine.model;

import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.Gguf;
import dev.rolloutlab.engine.checkpoint.HfJson;
import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.checkpoint.ModelFormatException;
import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.tokenizer.Tokenizer;
import dev.rolloutlab.engine.tokenizer.TokenizerBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** A Hugging Face model folder loaded into memory: config, tokenizer and version-0 weights. */
public record Checkpoint(Path dir, ModelConfig config, Tokenizer tokenizer, Weights weights) {

    /** Loads a folder, validating everything before returning, so a bad folder never yields a half-loaded model. */
    public static Checkpoint load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException(
                    dir + ": not a directory (create one with: model init --shape tiny --out " + dir + ")");
        }
        ModelConfig config = ModelConfig.read(dir);
        Tokenizer tok = Tokenizer.read(dir);
        if (tok.vocabSize() > config.vocabSize()) {
            throw new ModelFormatException(dir.resolve("tokenizer.json") + ": " + tok.vocabSize()
                    + " token ids do not fit vocab_size " + config.vocabSize() + " in config.json");
        }
        Weights w = Weights.of(config, readTensors(dir), 0);
        return new Checkpoint(dir, config, tok, w);
    }

    /**
     * Writes the checkpoint in {@code dir} as one GGUF file that llama.cpp loads, its 2-D weights in {@code type}, its
     * tokenizer included; {@code out} is replaced atomically.
     */
    public static void exportGguf(Path dir, Gguf.Type type, Path out) throws IOException {
        Path tokenizer = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokenizer))
            throw new ModelFormatException(tokenizer + ": missing; GGUF carries the tokenizer, the export needs it");
        Gguf.write(
                ModelConfig.read(dir),
                readTensors(dir),
                HfJson.MAPPER.readTree(tokenizer.toFile()),
                dir.toAbsolutePath().getFileName().toString(),
                type,
                out);
    }

    /** All tensors of all {@code *.safetensors} files in a folder, files in name order. */
    public static Map<String, Tensor> readTensors(Path dir) {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new ModelFormatException(dir + ": cannot list: " + e.getMessage(), e);
        }
        if (files.isEmpty()) throw new ModelFormatException(dir + ": no *.safetensors file");
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (Path f : files) {
            for (var e : Safetensors.read(f).entrySet()) {
                if (all.put(e.getKey(), e.getValue()) != null) {
                    throw new ModelFormatException(f + ": tensor " + e.getKey() + " also appears in an earlier file");
                }
            }
        }
        return all;
    }

    /** Writes a random-weight checkpoint (config, safetensors, tokenizer), deterministic for a seed. */
    public static void init(ModelConfig config, Path out, long seed, DType dtype) throws IOException {
        Files.createDirectories(out);
        Map<String, Tensor> tensors = randomTensors(config, seed);
        config.withDtype(dtype).write(out);
        TokenizerBuilder.write(out, config.vocabSize());
        Safetensors.write(out.resolve("model.safetensors"), tensors, dtype);
        Files.writeString(
                out.resolve("generation_config.json"),
                "{\"bos_token_id\": " + config.bosTokenId() + ", \"eos_token_id\": " + config.eosTokenIds() + "}\n");
    }

    public static Map<String, Tensor> randomTensors(ModelConfig config, long seed) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        SplittableRandom root = new SplittableRandom(seed);
        for (var e : Weights.expectedShapes(config).entrySet()) {
            SplittableRandom r = root.split();
            int[] shape = e.getValue();
            float[] d = new float[(int) Tensor.numel(shape)];
            boolean norm = e.getKey().endsWith("norm.weight");
            boolean bias = e.getKey().endsWith(".bias");
            for (int i = 0; i < d.length; i++) {
                double g = Noise.gaussian(r);
                d[i] = (float) (norm ? 1.0 + 0.1 * g : bias ? 0.02 * g : 0.05 * g);
            }
            tensors.put(e.getKey(), new Tensor(e.getKey(), shape, d));
        }
        return tensors;
    }
}
