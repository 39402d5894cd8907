package dev.rolloutlab.engine;

import dev.rolloutlab.engine.model.KvCache;
import dev.rolloutlab.engine.model.PrefixCache;
import java.util.Arrays;
import java.util.HashSet;

/**
 * The scheduler's use of a {@link PrefixCache}: what a waiting prompt finds cached, which prompts wait one step for a
 * prefix another prompt of the step is computing, and what is kept after a prefill and after an answer. With no cache
 * (cap 0) every method finds nothing and keeps nothing. Owned by the scheduler thread.
 */
final class PrefixSharing {
    private final PrefixCache cache; // null: off
    /** Block hashes the prompts admitted in this step compute: a prompt that needs one waits for the next step. */
    private final HashSet<Long> pending = new HashSet<>();

    PrefixSharing(PrefixCache cache) {
        this.cache = cache;
    }

    /** A step begins: nothing is being computed yet. */
    void newStep() {
        pending.clear();
    }

    /** The prompt tokens of {@code j} the cache holds under {@code version}, touching nothing. */
    int cached(Job j, long version) {
        if (cache == null) return 0;
        int[] prompt = j.request.promptTokens();
        if (j.blockHashes == null) j.blockHashes = PrefixCache.hashes(prompt, prompt.length);
        return cache.peek(j.blockHashes, prompt, version);
    }

    /**
     * Whether {@code j}'s next uncached block is being computed by a prompt admitted in this step: it then waits a step
     * and reuses it, so a GRPO group sent as separate requests computes its prompt once.
     */
    boolean waitsForPending(Job j, int cached) {
        if (cache == null) return false;
        int next = cached / PrefixCache.BLOCK;
        return next < j.blockHashes.length && pending.contains(j.blockHashes[next]);
    }

    /** Copies {@code j}'s cached prefix into {@code into} and counts the lookup; returns its length in tokens. */
    int restore(Job j, long version, KvCache into) {
        if (cache == null) return 0;
        int n = cache.restore(j.blockHashes, j.request.promptTokens(), version, into);
        for (int b = n / PrefixCache.BLOCK; b < j.blockHashes.length; b++) pending.add(j.blockHashes[b]);
        return n;
    }

    /** Keeps the prompt {@code j} just prefilled under {@code version}, from its first sample's cache. */
    void keepPrompt(Job j, long version, KvCache kv) {
        if (cache == null) return;
        int[] prompt = j.request.promptTokens();
        cache.store(prompt, prompt.length, j.blockHashes, version, kv);
    }

    /**
     * Keeps a finished sample's prompt and answer: the next turn of a multi-turn session resends both. Its keys and
     * values cover every position but the last token's, which was never fed back; a sample whose keys and values mix
     * two weights versions is not kept.
     */
    void keepAnswer(Seq s) {
        if (cache == null || s.kvVersion < 0) return;
        int[] prompt = s.job.request.promptTokens();
        int len = s.pos;
        if (len / PrefixCache.BLOCK <= prompt.length / PrefixCache.BLOCK) return; // no block beyond the prompt's
        int[] all = Arrays.copyOf(prompt, len);
        System.arraycopy(s.tokens, 0, all, prompt.length, len - prompt.length);
        cache.store(all, len, PrefixCache.hashes(all, len), s.kvVersion, s.cache);
    }

    PrefixCache.Stats stats() {
        return cache == null ? PrefixCache.Stats.NONE : cache.stats();
    }
}
