package dev.rolloutlab.engine.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.commands.Cli;
import dev.rolloutlab.commands.ModelCommand;
import dev.rolloutlab.engine.EngineOptions;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.SamplingParams;
import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.checkpoint.ModelFormatException;
import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.testing.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CheckpointTest {

    static String run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true));
        try {
            assertEquals(0, Cli.run(new ModelCommand(), args));
        } finally {
            System.setOut(old);
        }
        return out.toString();
    }

    @Test
    void initThenLoadGivesTheChecksumInspectPrints() throws Exception {
        Path dir = TestModels.tempDir("init").resolve("m");
        run("init", "--shape", "tiny", "--out", dir.toString(), "--seed", "5");
        String inspect = run("inspect", dir.toString());
        Checkpoint c = Checkpoint.load(dir);
        assertTrue(inspect.contains("checksum: " + c.weights().checksum()), inspect);
        assertTrue(inspect.contains("architecture: LlamaForCausalLM"), inspect);
        assertTrue(inspect.contains("parameters: " + c.weights().parameterCount()), inspect);
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"})
            assertTrue(Files.exists(dir.resolve(f)));
    }

    @Test
    void initIsDeterministicForASeed() throws Exception {
        Path a = TestModels.tempDir("a"), b = TestModels.tempDir("b"), c = TestModels.tempDir("c");
        run("init", "--shape", "tiny", "--out", a.toString(), "--seed", "3", "--force");
        run("init", "--shape", "tiny", "--out", b.toString(), "--seed", "3", "--force");
        run("init", "--shape", "tiny", "--out", c.toString(), "--seed", "4", "--force");
        assertArrayEquals(
                Files.readAllBytes(a.resolve("model.safetensors")), Files.readAllBytes(b.resolve("model.safetensors")));
        assertFalse(Arrays.equals(
                Files.readAllBytes(a.resolve("model.safetensors")),
                Files.readAllBytes(c.resolve("model.safetensors"))));
    }

    @Test
    void halfPrecisionCheckpointsLoadToTheRoundedValues() throws Exception {
        Map<String, Tensor> f32 = Checkpoint.load(TestModels.tiny()).weights().tensors();
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            Path dir = TestModels.model("tiny", ModelConfig.Architecture.LLAMA, 0, dt);
            Map<String, Tensor> half = Checkpoint.load(dir).weights().tensors();
            assertEquals(f32.keySet(), half.keySet());
            float[] a = f32.get("model.layers.0.mlp.up_proj.weight").data(),
                    b = half.get("model.layers.0.mlp.up_proj.weight").data();
            double maxRel = 0;
            for (int i = 0; i < a.length; i++)
                maxRel = Math.max(maxRel, Math.abs(a[i] - b[i]) / Math.max(1e-3, Math.abs(a[i])));
            assertTrue(maxRel < (dt == DType.BF16 ? 1e-2 : 1e-3), dt + " max relative error " + maxRel);
            assertTrue(maxRel > 0, dt + " must actually be stored at lower precision");
        }
    }

    @Test
    void qwen2CheckpointsHaveQkvBiasesAndGenerate() {
        Checkpoint c = Checkpoint.load(TestModels.tinyQwen2());
        assertEquals(ModelConfig.Architecture.QWEN2, c.config().architecture());
        assertTrue(c.weights().tensors().containsKey("model.layers.0.self_attn.q_proj.bias"));
        try (InProcessEngine e = new InProcessEngine(c, EngineOptions.DEFAULT)) {
            assertEquals(
                    5,
                    e.generate("hi", SamplingParams.greedy(5).withIgnoreEos(true), 1)
                            .completionTokens());
        }
    }

    @Test
    void badFoldersAreRefusedNamingTheProblem() throws Exception {
        var e1 = assertThrows(ModelFormatException.class, () -> Checkpoint.load(Path.of("/nonexistent/model")));
        assertTrue(e1.getMessage().contains("not a directory"));

        Path noWeights = TestModels.tempDir("broken");
        Files.copy(TestModels.tiny().resolve("config.json"), noWeights.resolve("config.json"));
        Files.copy(TestModels.tiny().resolve("tokenizer.json"), noWeights.resolve("tokenizer.json"));
        var e2 = assertThrows(ModelFormatException.class, () -> Checkpoint.load(noWeights));
        assertTrue(e2.getMessage().contains("no *.safetensors"), e2.getMessage());

        Path unknown = TestModels.tempDir("arch");
        Files.writeString(
                unknown.resolve("config.json"),
                Files.readString(TestModels.tiny().resolve("config.json"))
                        .replace("LlamaForCausalLM", "MambaForCausalLM")
                        .replace("\"llama\"", "\"mamba\""));
        var e3 = assertThrows(ModelFormatException.class, () -> Checkpoint.load(unknown));
        assertTrue(e3.getMessage().contains("MambaForCausalLM"), e3.getMessage());

        // a tensor with the wrong shape: write the tiny weights with one tensor transposed
        Path wrong = TestModels.tempDir("shape");
        for (String f : new String[] {"config.json", "tokenizer.json"})
            Files.copy(TestModels.tiny().resolve(f), wrong.resolve(f));
        Map<String, Tensor> t = new LinkedHashMap<>(Checkpoint.readTensors(TestModels.tiny()));
        Tensor down = t.get("model.layers.1.mlp.down_proj.weight");
        t.put(down.name(), new Tensor(down.name(), new int[] {down.shape()[1], down.shape()[0]}, down.data()));
        Safetensors.write(wrong.resolve("model.safetensors"), t, DType.F32);
        var e4 = assertThrows(ModelFormatException.class, () -> Checkpoint.load(wrong));
        assertTrue(e4.getMessage().contains("model.layers.1.mlp.down_proj.weight"), e4.getMessage());

        Path garbage = TestModels.tempDir("garbage");
        for (String f : new String[] {"config.json", "tokenizer.json"})
            Files.copy(TestModels.tiny().resolve(f), garbage.resolve(f));
        Files.write(garbage.resolve("model.safetensors"), new byte[] {1, 2, 3});
        var e5 = assertThrows(ModelFormatException.class, () -> Checkpoint.load(garbage));
        assertTrue(e5.getMessage().contains("model.safetensors"), e5.getMessage());
    }
}
