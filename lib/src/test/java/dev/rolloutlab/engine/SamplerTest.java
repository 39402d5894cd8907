package dev.rolloutlab.engine;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The sampler on rows no sane request produces: it must answer, never loop. */
class SamplerTest {
    @Test
    @Timeout(value = 5, unit = TimeUnit.SECONDS)
    void nanLogitsWithFiltersStillPickAToken() {
        int vocab = 1000;
        Sampler s = new Sampler(vocab);
        float[] logits = new float[vocab];
        Arrays.fill(logits, Float.NaN);
        SamplingParams p = new SamplingParams(2, 0.5, 0.5, 40, 1L, null, null, 0, false);
        int tok = s.sample(logits, 0, p, new SplittableRandom(1));
        assertTrue(tok >= 0 && tok < vocab);
    }

    @Test
    void temperaturesBetweenGreedyAndTheStatedMinimumAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.of(2, 1e-300, 1L));
        assertThrows(
                IllegalArgumentException.class, () -> SamplingParams.of(2, SamplingParams.MIN_TEMPERATURE / 2, 1L));
        assertThrows(IllegalArgumentException.class, () -> SamplingParams.of(2, Double.NaN, 1L));
        assertEquals(0, SamplingParams.of(2, 0, 1L).temperature());
    }

    @Test
    void theLowestTemperatureStillSamplesFromFiniteWeights() {
        int vocab = 1000;
        Sampler s = new Sampler(vocab);
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) logits[i] = i == 417 ? 10f : i % 7;
        SamplingParams p = new SamplingParams(2, SamplingParams.MIN_TEMPERATURE, 0.5, 0, 1L, null, null, 0, false);
        assertEquals(417, s.sample(logits, 0, p, new SplittableRandom(1)), "near-greedy at T = 0.01");
    }

    @Test
    void greedyPicksWhatArgmaxPicksWithTiesAndNaNs() {
        int vocab = 1003;
        Sampler s = new Sampler(vocab);
        SamplingParams greedy = SamplingParams.greedy(1);
        java.util.Random rnd = new java.util.Random(7);
        for (int row = 0; row < 50; row++) {
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) logits[i] = rnd.nextInt(40); // many ties at the top
            if (row % 5 == 1) logits[rnd.nextInt(vocab)] = Float.NaN;
            if (row % 5 == 2) Arrays.fill(logits, Float.NEGATIVE_INFINITY);
            if (row % 5 == 3) logits[rnd.nextInt(vocab)] = -0f;
            assertEquals(
                    s.argmax(logits, 0),
                    s.pick(logits, 0, greedy, new SplittableRandom(1)).token(),
                    "row " + row);
        }
    }
}
