package dev.rolloutlab.engine;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.StepClock;
import dev.rolloutlab.sim.TimingModel;
import dev.rolloutlab.testing.TestModels;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A simulated engine ({@code serve --engine sim}) samples without a pass over the vocabulary, and what it samples is
 * still what its logits say: every token but end-of-sequence equally likely, with that logprob.
 */
class SimulatedEngineTest {
    @Test
    void tokensAreUniformOverTheVocabularyWithoutEndOfSequenceAndCarryTheirLogprob() {
        TimingModel instant = new TimingModel(0, 0, 0, 0, 0, 64);
        try (InProcessEngine e = new InProcessEngine(
                Checkpoint.load(TestModels.tiny()),
                new EngineOptions(64, 1024, 0, instant, EngineOptions.AUTO_PREFIX_CACHE, Duration.ZERO))) {
            int vocab = e.config().vocabSize();
            List<Integer> stops = e.defaultStopIds();
            int allowed = vocab
                    - (int) stops.stream().filter(t -> t >= 0 && t < vocab).count();
            Completion c = e.generate(new GenerationRequest(
                    e.tokenizer().encode("a simulated prompt"),
                    4,
                    SamplingParams.of(500, 1.0, 7L).withIgnoreEos(true)));
            Set<Integer> seen = new HashSet<>();
            int total = 0;
            for (Sample s : c.samples()) {
                assertEquals(500, s.tokenIds().length, "a simulated request runs to max_tokens");
                for (int i = 0; i < s.tokenIds().length; i++) {
                    int t = s.tokenIds()[i];
                    assertTrue(t >= 0 && t < vocab && !stops.contains(t), "token " + t);
                    assertEquals(
                            -Math.log(allowed),
                            s.logprobs()[i],
                            1e-5,
                            "uniform over the " + allowed + " tokens that are not end-of-sequence");
                    seen.add(t);
                    total++;
                }
            }
            // 2,000 uniform draws over the tiny model's vocabulary: the expected number of distinct tokens is
            // allowed * (1 - (1 - 1/allowed)^2000); a draw stuck on few tokens (or on the first) falls far below it
            double expected = allowed * (1 - Math.pow(1 - 1.0 / allowed, total));
            assertTrue(
                    seen.size() > 0.9 * expected,
                    seen.size() + " distinct tokens of " + total + ", expected about " + expected);
            Completion greedy = e.generate(new GenerationRequest(
                    e.tokenizer().encode("greedy"),
                    1,
                    SamplingParams.of(20, 0.0, 1L).withIgnoreEos(true)));
            assertEquals(
                    1,
                    new HashSet<>(Arrays.stream(greedy.samples().get(0).tokenIds())
                                    .boxed()
                                    .toList())
                            .size(),
                    "greedy on equal logits takes one token every time (the general path)");
        }
    }

    /**
     * A simulated engine's thread waits for a core where its clock says: woken from idle by a request, which counts as
     * the request's queue time, and when a step has finished a request, before it ends, which counts in its decode.
     */
    @Test
    void theClocksWaitsOutsideTheStepsLandInTheQueueAndBeforeTheEnd() {
        long wokenMs = 40, finishingMs = 60;
        StepClock waiting = new StepClock() {
            @Override
            public int maxBatch() {
                return 8;
            }

            @Override
            public void step(long startNanos, int prefillTokens, int decodeRows, double meanContext) {}

            @Override
            public void awaken() {
                sleep(wokenMs);
            }

            @Override
            public void finishing() {
                sleep(finishingMs);
            }
        };
        try (InProcessEngine e = new InProcessEngine(
                Checkpoint.load(TestModels.tiny()),
                new EngineOptions(64, 1024, 0, waiting, EngineOptions.AUTO_PREFIX_CACHE, Duration.ZERO))) {
            for (int maxTokens : new int[] {1, 4}) {
                Timings t = e.generate(new GenerationRequest(
                                e.tokenizer().encode("a request"),
                                1,
                                SamplingParams.of(maxTokens, 1.0, 7L).withIgnoreEos(true)))
                        .timings();
                assertTrue(t.queueNs() >= wokenMs * 1_000_000, "woken: in the queue time, " + t);
                assertTrue(t.prefillNs() < wokenMs * 1_000_000, "not in the prefill, " + t);
                assertTrue(
                        t.decodeNs() >= finishingMs * 1_000_000 && t.decodeNs() < 2 * finishingMs * 1_000_000,
                        maxTokens + " tokens: one wait before the end, in the decode, " + t);
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
