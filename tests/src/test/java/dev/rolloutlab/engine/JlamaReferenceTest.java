package dev.rolloutlab.engine;

import static org.junit.jupiter.api.Assertions.*;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.testing.TestModels;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Greedy decoding against Jlama 0.8.4 on the same random checkpoints: tokens must match exactly and logprobs agree
 * within {@link #LOGPROB_TOLERANCE}. Prompts are fed as token ids so both sides see identical input.
 */
class JlamaReferenceTest {
    /** Both engines compute in float32 but in different orders; 2e-3 nats covers that drift over 24 steps. */
    static final double LOGPROB_TOLERANCE = 2e-3;

    static final int STEPS = 24;

    static {
        // jlama-native 0.8.4's F32 kernels give wrong results on most of these shapes here (hidden 64, 128, 288:
        // logprobs off by up to 2 nats already at position 0), while its Panama kernels agree with us and with
        // NaiveReference to 1e-5. Compare against the Panama path; docs/benchmarks.md times both.
        System.setProperty("jlama.force_panama_tensor_operations", "true");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"tiny, llama", "small, llama", "tiny, qwen2", "96x3x2048, qwen2"})
    void greedyTokensAndLogprobsMatchJlama(String shape, String arch) {
        ModelConfig.Architecture a =
                arch.equals("qwen2") ? ModelConfig.Architecture.QWEN2 : ModelConfig.Architecture.LLAMA;
        Path dir = TestModels.model(shape, a, 11, DType.F32);
        int[] prompt;
        Sample ours;
        try (InProcessEngine engine = new InProcessEngine(Checkpoint.load(dir), EngineOptions.DEFAULT)) {
            prompt = engine.tokenizer().encode("Once upon a time there was a model that wanted to learn.");
            ours = engine.generate(new GenerationRequest(
                            prompt, 1, SamplingParams.greedy(STEPS).withIgnoreEos(true)))
                    .samples()
                    .get(0);
        }

        AbstractModel jlama = ModelSupport.loadModel(
                dir.toFile(),
                com.github.tjake.jlama.safetensors.DType.F32,
                com.github.tjake.jlama.safetensors.DType.F32);
        try (KvBufferCache cache = new KvBufferCache(jlama)) {
            KvBufferCache.KvBuffer kv = cache.getEphemeralKvBuffer();
            AbstractTensor out = jlama.batchForward(prompt, 0, kv);
            AbstractTensor last = out.slice(out.shape().first() - 1);
            int pos = prompt.length;
            for (int i = 0; i < STEPS; i++) {
                // Jlama's getLogits returns the softmax (probabilities), not raw logits
                float[] probs = jlama.getLogits(last);
                assertEquals(1.0, sum(probs), 1e-3, "Jlama getLogits is expected to return probabilities");
                int next = argmax(probs);
                double lp = Math.log(probs[next]);
                assertEquals(next, ours.tokenIds()[i], shape + "/" + arch + ": token " + i + " differs from Jlama");
                assertEquals(lp, ours.logprobs()[i], LOGPROB_TOLERANCE, shape + "/" + arch + ": logprob of token " + i);
                last = jlama.forward(next, pos++, kv, Optional.empty());
            }
        } finally {
            jlama.close();
        }
    }

    static int argmax(float[] x) {
        int b = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
        return b;
    }

    static double sum(float[] x) {
        double s = 0;
        for (float v : x) s += v;
        return s;
    }
}
