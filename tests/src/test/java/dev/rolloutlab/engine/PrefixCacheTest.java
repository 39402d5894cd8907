package dev.rolloutlab.engine;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.PrefixCache;
import dev.rolloutlab.testing.TestModels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The engine's prefix cache on the real model: a GRPO group sent as separate requests computes its prompt once, a
 * session's next turn reuses the history, what a hit produces equals what computing would, and nothing computed under
 * one weights version is reused under the next.
 */
class PrefixCacheTest {
    private static final Checkpoint TINY = Checkpoint.load(TestModels.tiny());
    private static final int BLOCK = PrefixCache.BLOCK;

    private static int[] prompt(long seed, int len) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] p = new int[len];
        for (int i = 0; i < len; i++) p[i] = 10 + r.nextInt(900);
        return p;
    }

    private static GenerationRequest greedy(int[] prompt, int maxTokens) {
        return new GenerationRequest(prompt, 1, SamplingParams.greedy(maxTokens).withIgnoreEos(true));
    }

    @Test
    void aGroupOfEightSeparateRequestsComputesItsPromptOnceAndTheSameTokensAsWithoutTheCache() {
        int[] p = prompt(1, 200);
        try (InProcessEngine cached = new InProcessEngine(TINY, EngineOptions.DEFAULT);
                InProcessEngine plain = new InProcessEngine(TINY, EngineOptions.DEFAULT.withPrefixCache(0))) {
            List<CompletableFuture<Completion>> group = new ArrayList<>();
            for (int i = 0; i < 8; i++) group.add(cached.submit(greedy(p, 8), TokenListener.NONE));
            int served = 0, hitting = 0;
            for (CompletableFuture<Completion> f : group) {
                int c = f.join().timings().cachedTokens();
                served += c;
                if (c > 0) hitting++;
            }
            int reusable = (p.length - 1) / BLOCK * BLOCK; // whole blocks, the last token always computed
            assertEquals(7, hitting, "one request computes the prompt, the seven others reuse it");
            assertEquals(7 * reusable, served, "each of the seven reuses every whole block but the last token's");
            var stats = cached.load().prefixCache();
            assertEquals(8, stats.queries());
            assertEquals(7 * reusable, stats.hitTokens());
            assertEquals(8L * p.length, stats.queriedTokens());
            // the step counters say the same: prompt computed once plus the tails, each sample's first token from its
            // prefill row and the other seven from decode rows
            StepTotals steps = cached.steps();
            assertEquals(8L * p.length - 7L * reusable, steps.prefillTokens(), steps.toString());
            assertEquals(8L * 7, steps.decodeRows(), steps.toString());
            assertTrue(steps.steps() >= 8 && steps.busyNanos() > 0, steps.toString());

            int[] want = plain.generate(greedy(p, 8)).samples().get(0).tokenIds();
            for (CompletableFuture<Completion> f : group)
                assertArrayEquals(want, f.join().samples().get(0).tokenIds(), "a hit samples what computing does");
            assertEquals(0, plain.load().prefixCache().queries(), "off means off");
        }
    }

    @Test
    void aSessionsNextTurnReusesThePromptAndTheAnswerOfTheTurnBefore() {
        try (InProcessEngine e = new InProcessEngine(TINY, EngineOptions.DEFAULT)) {
            int[] turn1 = prompt(2, 100);
            Completion a1 = e.generate(greedy(turn1, 40));
            assertEquals(0, a1.timings().cachedTokens(), "a first turn finds nothing");
            int[] answer = a1.samples().get(0).tokenIds(), tool = prompt(3, 30);
            int[] turn2 = concat(turn1, answer, tool);
            Completion a2 = e.generate(greedy(turn2, 8));
            // keys and values exist for the prompt and every answer token but the last, never fed back
            int history = turn1.length + answer.length - 1;
            assertEquals(history / BLOCK * BLOCK, a2.timings().cachedTokens(), "the history in whole blocks");
            try (InProcessEngine plain = new InProcessEngine(TINY, EngineOptions.DEFAULT.withPrefixCache(0))) {
                assertArrayEquals(
                        plain.generate(greedy(turn2, 8)).samples().get(0).tokenIds(),
                        a2.samples().get(0).tokenIds(),
                        "the reused answer's keys and values are the ones computing gives");
            }
        }
    }

    @Test
    void afterAWeightUpdateNothingComputedUnderTheOldVersionIsReused() {
        int[] p = prompt(4, 120);
        try (InProcessEngine e = new InProcessEngine(TINY, EngineOptions.DEFAULT);
                InProcessEngine plain = new InProcessEngine(TINY, EngineOptions.DEFAULT.withPrefixCache(0))) {
            e.generate(greedy(p, 4));
            assertTrue(e.generate(greedy(p, 4)).timings().cachedTokens() > 0, "the same version reuses it");
            e.perturb(7, 0.5, null);
            plain.perturb(7, 0.5, null);
            Completion after = e.generate(greedy(p, 16));
            assertEquals(
                    0, after.timings().cachedTokens(), "version " + e.weights().version() + " reuses nothing");
            assertArrayEquals(
                    plain.generate(greedy(p, 16)).samples().get(0).tokenIds(),
                    after.samples().get(0).tokenIds(),
                    "what the new version computes, not the old one's keys and values");
            assertTrue(e.generate(greedy(p, 4)).timings().cachedTokens() > 0, "and the new version's are reused");
        }
    }

    @Test
    void theCacheStaysUnderItsCapByEvictingTheLeastRecentlyUsed() {
        long cap = 20L
                * PrefixCache.bytesPerBlock(
                        TINY.config().numLayers(), TINY.config().kvDim());
        try (InProcessEngine e = new InProcessEngine(TINY, EngineOptions.DEFAULT.withPrefixCache(cap))) {
            int[] old = prompt(5, 8 * BLOCK + 1), recent = prompt(6, 8 * BLOCK + 1);
            e.generate(greedy(old, 1));
            e.generate(greedy(recent, 1));
            for (int i = 0; i < 3; i++) e.generate(greedy(prompt(10 + i, 4 * BLOCK + 1), 1));
            var s = e.load().prefixCache();
            assertTrue(s.bytes() <= cap, s + " over its cap of " + cap);
            assertTrue(s.evictions() > 0, "28 blocks into room for 20: " + s);
            // the recent prompt first: looking the old one up stores it again, which evicts
            assertEquals(8 * BLOCK, e.generate(greedy(recent, 1)).timings().cachedTokens(), "the recent one stayed");
            assertEquals(0, e.generate(greedy(old, 1)).timings().cachedTokens(), "the least recently used went first");
        }
    }

    private static int[] concat(int[]... parts) {
        int[] all = new int[Arrays.stream(parts).mapToInt(a -> a.length).sum()];
        int at = 0;
        for (int[] a : parts) {
            System.arraycopy(a, 0, all, at, a.length);
            at += a.length;
        }
        return all;
    }
}
