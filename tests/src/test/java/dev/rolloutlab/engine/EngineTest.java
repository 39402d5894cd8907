package dev.rolloutlab.engine;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.engine.checkpoint.ModelFormatException;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Noise;
import dev.rolloutlab.engine.model.Weights;
import dev.rolloutlab.testing.TestModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EngineTest {
    static InProcessEngine engine;

    @BeforeAll
    static void open() {
        engine = InProcessEngine.open(TestModels.tiny());
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static int[] prompt(String text) {
        return engine.tokenizer().encode(text);
    }

    @Test
    void sameSeedGivesSameTokensAloneAndInsideABusyBatch() {
        SamplingParams p = SamplingParams.of(40, 1.0, 1234L).withIgnoreEos(true);
        Completion alone = engine.generate(new GenerationRequest(prompt("The rollout phase"), 1, p));

        List<CompletableFuture<Completion>> noise = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            noise.add(engine.submit(
                    new GenerationRequest(
                            prompt("noise request " + i + " with other text"),
                            2,
                            SamplingParams.of(60, 1.0, null).withIgnoreEos(true)),
                    TokenListener.NONE));
        }
        Completion busy = engine.submit(new GenerationRequest(prompt("The rollout phase"), 1, p), TokenListener.NONE)
                .join();
        noise.forEach(CompletableFuture::join);

        assertArrayEquals(
                alone.samples().get(0).tokenIds(), busy.samples().get(0).tokenIds());
        assertArrayEquals(
                alone.samples().get(0).logprobs(), busy.samples().get(0).logprobs(), 0f);
        assertEquals(40, alone.samples().get(0).completionTokens());
    }

    /**
     * A finished sequence's cache serves the next request of its size with its old values still in it; the new one must
     * read only the positions it wrote. The prefix cache is off so the short prompt is computed, not restored.
     */
    @Test
    void aCacheLeftByALongerRequestGivesTheTokensAFreshOneGives() {
        var checkpoint = dev.rolloutlab.engine.model.Checkpoint.load(TestModels.tiny());
        var noPrefixCache = EngineOptions.DEFAULT.withPrefixCache(0);
        SamplingParams shortAnswer = SamplingParams.of(150, 1.0, 7L).withIgnoreEos(true);
        GenerationRequest shortOne =
                new GenerationRequest(Arrays.copyOf(prompt("a short prompt about rollouts"), 20), 1, shortAnswer);
        Completion fresh, reused;
        try (InProcessEngine e = new InProcessEngine(checkpoint, noPrefixCache)) {
            fresh = e.generate(shortOne);
        }
        try (InProcessEngine e = new InProcessEngine(checkpoint, noPrefixCache)) {
            int[] longPrompt = new int[100];
            for (int i = 0; i < longPrompt.length; i++) longPrompt[i] = 10 + (i * 37) % 200;
            // 100 + 40 and 20 + 150 positions: both caches of the same size class, so the second reuses the first's
            e.generate(new GenerationRequest(
                    longPrompt, 1, SamplingParams.of(40, 1.0, 3L).withIgnoreEos(true)));
            reused = e.generate(shortOne);
        }
        assertArrayEquals(
                fresh.samples().get(0).tokenIds(), reused.samples().get(0).tokenIds());
        assertArrayEquals(
                fresh.samples().get(0).logprobs(), reused.samples().get(0).logprobs(), 0f);
    }

    @Test
    void differentSeedsDiffer_andNSamplesShareThePromptButNotTheTokens() {
        SamplingParams p = SamplingParams.of(30, 1.0, 7L).withIgnoreEos(true);
        Completion c = engine.generate(new GenerationRequest(prompt("Once upon a time"), 4, p));
        assertEquals(4, c.samples().size());
        for (int i = 0; i < 4; i++) assertEquals(i, c.samples().get(i).index());
        assertNotEquals(
                List.of(c.samples().get(0).tokenIds()),
                List.of(c.samples().get(1).tokenIds()));
        // sample i of a seeded request is reproducible on its own
        Completion again = engine.generate(new GenerationRequest(prompt("Once upon a time"), 4, p));
        for (int i = 0; i < 4; i++)
            assertArrayEquals(
                    c.samples().get(i).tokenIds(), again.samples().get(i).tokenIds());
        Completion other = engine.generate(new GenerationRequest(prompt("Once upon a time"), 1, p.withSeed(8L)));
        assertFalse(Arrays.equals(
                c.samples().get(0).tokenIds(), other.samples().get(0).tokenIds()));
    }

    @Test
    void greedyLogprobsAreOfTheArgmaxAndNegative() {
        Completion c = engine.generate(new GenerationRequest(
                prompt("hello"),
                1,
                SamplingParams.greedy(10).withIgnoreEos(true).withTopLogprobs(3)));
        Sample s = c.samples().get(0);
        for (int i = 0; i < s.completionTokens(); i++) {
            assertTrue(s.logprobs()[i] <= 0);
            List<TopLogprob> top = s.topLogprobs().get(i);
            assertEquals(3, top.size());
            assertEquals(s.tokenIds()[i], top.get(0).tokenId(), "greedy picks the most likely token");
            assertEquals(s.logprobs()[i], top.get(0).logprob(), 1e-6);
            assertTrue(top.get(0).logprob() >= top.get(1).logprob());
        }
    }

    /**
     * The listener holds the engine's step at the tenth token until the update is in (the listener runs on the
     * scheduler's thread): unheld, the tiny model finished all 200 tokens before the test had built its update, and no
     * token was sampled after it.
     */
    @Test
    void weightUpdateMidGenerationMarksLaterTokensOnly() throws Exception {
        CountDownLatch tenTokens = new CountDownLatch(10), updated = new CountDownLatch(1);
        long v0 = engine.weights().version();
        var future = engine.submit(
                new GenerationRequest(
                        prompt("a long story"), 1, SamplingParams.greedy(200).withIgnoreEos(true)),
                (sample, id, lp, version, text) -> {
                    tenTokens.countDown();
                    try {
                        if (tenTokens.getCount() == 0 && !updated.await(30, TimeUnit.SECONDS))
                            throw new IllegalStateException("no update within 30 s");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
        assertTrue(tenTokens.await(30, TimeUnit.SECONDS));
        Tensor first = engine.weights().tensors().values().iterator().next();
        float[] changed = first.data().clone();
        for (int i = 0; i < changed.length; i++) changed[i] += 0.01f;
        long v1 = engine.updateWeights(Map.of(first.name(), new Tensor(first.name(), first.shape(), changed)));
        updated.countDown();
        assertEquals(v0 + 1, v1);
        Sample s = future.get(60, TimeUnit.SECONDS).samples().get(0);
        assertEquals(200, s.completionTokens());
        for (int i = 0; i < 10; i++) assertEquals(v0, s.versions()[i], "token " + i + " was sampled before the update");
        assertEquals(v1, s.versions()[199], "the last token was sampled after the update");
        for (int i = 1; i < 200; i++) assertTrue(s.versions()[i] >= s.versions()[i - 1], "versions never go back");
        assertEquals(v1, engine.load().weightsVersion());
    }

    @Test
    void updatesWithWrongShapeOrUnknownTensorAreRefusedAndChangeNothing() {
        long v = engine.weights().version();
        double sum = engine.weights().checksum();
        Tensor first = engine.weights().tensors().values().iterator().next();
        var bad = new Tensor(
                first.name(),
                new int[] {first.shape()[0] + 1, first.shape()[1]},
                new float[(first.shape()[0] + 1) * first.shape()[1]]);
        var e = assertThrows(ModelFormatException.class, () -> engine.updateWeights(Map.of(first.name(), bad)));
        assertTrue(e.getMessage().contains(first.name()), e.getMessage());
        var e2 = assertThrows(
                ModelFormatException.class,
                () -> engine.updateWeights(
                        Map.of("nope.weight", new Tensor("nope.weight", new int[] {1}, new float[1]))));
        assertTrue(e2.getMessage().contains("nope.weight"));
        assertEquals(v, engine.weights().version());
        assertEquals(sum, engine.weights().checksum());
    }

    @Test
    void promptsLongerThanTheContextAreRefusedWithTheLimit() {
        int ctx = engine.config().maxPositions();
        var e = assertThrows(
                ContextLengthException.class,
                () -> engine.submit(
                        new GenerationRequest(new int[ctx], 1, SamplingParams.greedy(1)), TokenListener.NONE));
        assertTrue(e.getMessage().contains(String.valueOf(ctx)), e.getMessage());
    }

    @Test
    void stopStringsCutTheTextAndMaxTokensEndsWithLength() {
        Sample free = engine.generate(new GenerationRequest(
                        prompt("x"), 1, SamplingParams.greedy(20).withIgnoreEos(true)))
                .samples()
                .get(0);
        assertEquals(FinishReason.LENGTH, free.finishReason());
        String text = free.text();
        assertTrue(text.length() > 4, text);
        String stop = text.substring(2, 4);
        Sample cut = engine.generate(new GenerationRequest(
                        prompt("x"),
                        1,
                        SamplingParams.greedy(20).withIgnoreEos(true).withStop(List.of(stop))))
                .samples()
                .get(0);
        assertEquals(FinishReason.STOP, cut.finishReason());
        assertEquals(text.substring(0, text.indexOf(stop)), cut.text());
    }

    @Test
    void topPAndTopKRestrictChoices() {
        // top_k = 1 is greedy whatever the temperature
        Sample greedy = engine.generate(new GenerationRequest(
                        prompt("abc"), 1, SamplingParams.greedy(15).withIgnoreEos(true)))
                .samples()
                .get(0);
        Sample k1 = engine.generate(new GenerationRequest(
                        prompt("abc"),
                        1,
                        SamplingParams.of(15, 1.5, 3L).withTopK(1).withIgnoreEos(true)))
                .samples()
                .get(0);
        assertArrayEquals(greedy.tokenIds(), k1.tokenIds());
        Sample p0 = engine.generate(new GenerationRequest(
                        prompt("abc"),
                        1,
                        SamplingParams.of(15, 1.5, 3L).withTopP(1e-9).withIgnoreEos(true)))
                .samples()
                .get(0);
        assertArrayEquals(greedy.tokenIds(), p0.tokenIds());
    }

    @Test
    void loadReportsRunningSequences() throws Exception {
        var f = engine.submit(
                new GenerationRequest(
                        prompt("busy"), 3, SamplingParams.greedy(150).withIgnoreEos(true)),
                TokenListener.NONE);
        int seen = 0;
        for (int i = 0; i < 200 && !f.isDone(); i++) {
            seen = Math.max(seen, engine.load().runningSequences());
            Thread.sleep(5);
        }
        f.get(60, TimeUnit.SECONDS);
        assertTrue(seen >= 3, "saw " + seen + " running sequences");
    }

    @Test
    void theTrainersScorerReproducesTheRolloutsLogprobsAndSeesAWeightChange() {
        int[] prompt = prompt("The trainer scores");
        Completion c = engine.generate(
                new GenerationRequest(prompt, 1, SamplingParams.of(24, 1.0, 99L).withIgnoreEos(true)));
        Sample s = c.samples().get(0);
        Scorer scorer = new Scorer(engine.config());
        float[] same = scorer.logprobs(engine.weights(), prompt, s.tokenIds());
        assertEquals(s.completionTokens(), same.length);
        for (int i = 0; i < same.length; i++) {
            assertEquals(
                    s.logprobs()[i],
                    same[i],
                    1e-4,
                    "teacher forcing under the rollout's weights gives its logprob at token " + i);
        }
        Weights moved = engine.weights()
                .withUpdates(
                        Noise.added(new ArrayList<>(engine.weights().tensors().values()), 5, 1e-2),
                        engine.weights().version() + 1);
        float[] other = scorer.logprobs(moved, prompt, s.tokenIds());
        double gap = 0;
        for (int i = 0; i < other.length; i++) gap += Math.abs(other[i] - s.logprobs()[i]);
        assertTrue(gap / other.length > 1e-3, "other weights give other logprobs: mean gap " + gap / other.length);
    }
}
