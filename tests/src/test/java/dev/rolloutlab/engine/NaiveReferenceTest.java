package dev.rolloutlab.engine;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.testing.TestModels;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The engine's greedy tokens and logprobs against {@link NaiveReference}, recomputed from scratch at every step. */
class NaiveReferenceTest {
    static final double LOGPROB_TOLERANCE = 1e-3;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"tiny, llama", "tiny, qwen2", "small, llama", "144x2x2048, llama"})
    void greedyDecodingMatchesAPlainDoublePrecisionForwardPass(String shape, String arch) {
        ModelConfig.Architecture a =
                arch.equals("qwen2") ? ModelConfig.Architecture.QWEN2 : ModelConfig.Architecture.LLAMA;
        Checkpoint cp = Checkpoint.load(TestModels.model(shape, a, 11, DType.F32));
        NaiveReference ref = new NaiveReference(cp);
        int steps = shape.equals("small") ? 6 : 12;
        try (InProcessEngine engine = new InProcessEngine(cp, EngineOptions.DEFAULT)) {
            int[] prompt = engine.tokenizer().encode("Once upon a time there was");
            Sample s = engine.generate(new GenerationRequest(
                            prompt, 1, SamplingParams.greedy(steps).withIgnoreEos(true)))
                    .samples()
                    .get(0);
            int[] seq = Arrays.copyOf(prompt, prompt.length + steps);
            for (int i = 0; i < steps; i++) {
                double[] logits = ref.logits(Arrays.copyOf(seq, prompt.length + i));
                int best = 0;
                for (int j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
                double m = logits[best], z = 0;
                for (double v : logits) z += Math.exp(v - m);
                assertEquals(best, s.tokenIds()[i], shape + "/" + arch + " token " + i);
                assertEquals(-Math.log(z), s.logprobs()[i], LOGPROB_TOLERANCE, shape + "/" + arch + " logprob " + i);
                seq[prompt.length + i] = best;
            }
        }
    }
}
