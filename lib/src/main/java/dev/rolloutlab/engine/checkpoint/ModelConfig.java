package dev.rolloutlab.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The subset of a Hugging Face {@code config.json} that a Llama or Qwen2 decoder needs. */
public record ModelConfig(
        Architecture architecture,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositions,
        double ropeTheta,
        double rmsNormEps,
        boolean tieWordEmbeddings,
        int bosTokenId,
        List<Integer> eosTokenIds,
        DType dtype) {

    /** The decoder families the engine implements; Qwen2 differs from Llama only by biases on q, k and v. */
    public enum Architecture {
        LLAMA("LlamaForCausalLM", "llama", false),
        QWEN2("Qwen2ForCausalLM", "qwen2", true);

        public final String hfName;
        public final String modelType;
        public final boolean qkvBias;

        Architecture(String hfName, String modelType, boolean qkvBias) {
            this.hfName = hfName;
            this.modelType = modelType;
            this.qkvBias = qkvBias;
        }
    }

    private static final ObjectMapper JSON = HfJson.MAPPER;

    public ModelConfig {
        if (hiddenSize <= 0
                || numLayers <= 0
                || numHeads <= 0
                || numKvHeads <= 0
                || vocabSize <= 0
                || intermediateSize <= 0) {
            throw new ModelFormatException("config.json: sizes must be positive");
        }
        if (numHeads % numKvHeads != 0) {
            throw new ModelFormatException("config.json: num_attention_heads (" + numHeads
                    + ") must be a multiple of num_key_value_heads (" + numKvHeads + ")");
        }
        if (headDim % 2 != 0)
            throw new ModelFormatException("config.json: head_dim must be even for RoPE, got " + headDim);
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    public static ModelConfig read(Path dir) {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(
                    file + ": missing (a model folder needs config.json, *.safetensors and tokenizer.json)");
        }
        JsonNode n;
        try {
            n = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        Architecture arch = architectureOf(n, file);
        int hidden = required(n, "hidden_size", file);
        int heads = required(n, "num_attention_heads", file);
        int headDim = n.hasNonNull("head_dim") ? n.get("head_dim").asInt() : hidden / heads;
        List<Integer> eos = new ArrayList<>();
        JsonNode e = n.get("eos_token_id");
        if (e != null && e.isArray()) e.forEach(x -> eos.add(x.asInt()));
        else if (e != null && e.isNumber()) eos.add(e.asInt());
        return new ModelConfig(
                arch,
                hidden,
                required(n, "intermediate_size", file),
                required(n, "num_hidden_layers", file),
                heads,
                n.hasNonNull("num_key_value_heads")
                        ? n.get("num_key_value_heads").asInt()
                        : heads,
                headDim,
                required(n, "vocab_size", file),
                n.path("max_position_embeddings").asInt(2048),
                n.path("rope_theta").asDouble(10000.0),
                n.path("rms_norm_eps").asDouble(1e-6),
                n.path("tie_word_embeddings").asBoolean(false),
                n.path("bos_token_id").asInt(-1),
                eos,
                n.hasNonNull("torch_dtype")
                        ? DType.parse(n.get("torch_dtype").asText(), file + ": torch_dtype")
                        : DType.F32);
    }

    /**
     * The same model stored as {@code d}: config.json's {@code torch_dtype}, which is also the precision the engine
     * holds the weights in ({@code auto} in vLLM's terms), F16 held as float32.
     */
    public ModelConfig withDtype(DType d) {
        return new ModelConfig(
                architecture,
                hiddenSize,
                intermediateSize,
                numLayers,
                numHeads,
                numKvHeads,
                headDim,
                vocabSize,
                maxPositions,
                ropeTheta,
                rmsNormEps,
                tieWordEmbeddings,
                bosTokenId,
                eosTokenIds,
                d);
    }

    private static Architecture architectureOf(JsonNode n, Path file) {
        JsonNode archs = n.get("architectures");
        String name = archs != null && archs.isArray() && !archs.isEmpty()
                ? archs.get(0).asText()
                : null;
        String type = n.path("model_type").asText("");
        for (Architecture a : Architecture.values()) {
            if (a.hfName.equals(name) || (name == null && a.modelType.equals(type))) return a;
        }
        throw new ModelFormatException(file + ": unknown architecture " + (name != null ? name : "model_type=" + type)
                + " (supported: LlamaForCausalLM, Qwen2ForCausalLM)");
    }

    private static int required(JsonNode n, String field, Path file) {
        JsonNode v = n.get(field);
        if (v == null || !v.canConvertToInt())
            throw new ModelFormatException(file + ": field " + field + " is missing or not an integer");
        return v.asInt();
    }

    public void write(Path dir) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.putArray("architectures").add(architecture.hfName);
        n.put("model_type", architecture.modelType);
        n.put("hidden_size", hiddenSize);
        n.put("intermediate_size", intermediateSize);
        n.put("num_hidden_layers", numLayers);
        n.put("num_attention_heads", numHeads);
        n.put("num_key_value_heads", numKvHeads);
        n.put("head_dim", headDim);
        n.put("vocab_size", vocabSize);
        n.put("max_position_embeddings", maxPositions);
        n.put("rope_theta", ropeTheta);
        n.put("rms_norm_eps", rmsNormEps);
        n.put("tie_word_embeddings", tieWordEmbeddings);
        n.put("hidden_act", "silu");
        n.put("torch_dtype", dtype.torchName);
        n.put("bos_token_id", bosTokenId);
        if (eosTokenIds.size() == 1) n.put("eos_token_id", eosTokenIds.get(0));
        else eosTokenIds.forEach(n.withArray("eos_token_id")::add);
        if (architecture == Architecture.QWEN2) n.put("attention_bias", true);
        Files.writeString(dir.resolve("config.json"), n.toPrettyString());
    }
}
