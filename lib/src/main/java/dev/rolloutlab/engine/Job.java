package dev.rolloutlab.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** One submitted request inside the scheduler: its samples ({@link Seq}s), how many are unfinished, and its future. */
final class Job {
    final GenerationRequest request;
    final TokenListener listener;
    final Handle future = new Handle(this);
    /** Set by {@link InProcessEngine#abort}: the scheduler ends the job at its next step, keeping what it generated. */
    volatile boolean abort;

    Seq[] seqs;
    int unfinished;
    long seed;
    final long submittedNs = System.nanoTime();
    long admittedNs, prefilledNs;
    /** The prompt's block hashes for the prefix cache (null until first looked up), and the tokens it served. */
    long[] blockHashes;

    int cachedTokens;

    /** The request's stop token ids as a set: checked for every token of every sample, so not a list scan. */
    final BitSet stopIds = new BitSet();

    Job(GenerationRequest request, TokenListener listener) {
        this.request = request;
        this.listener = listener;
        for (int id : request.params().stopTokenIds()) if (id >= 0) stopIds.set(id);
    }

    /** The future a caller holds; {@link InProcessEngine#abort} finds the job through it. */
    static final class Handle extends CompletableFuture<Completion> {
        final Job job;

        Handle(Job job) {
            this.job = job;
        }
    }

    /** Aborted while still waiting: every sample ends empty with {@code abort}. */
    void abortBeforeStart() {
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < request.n(); i++) {
            listener.onFinish(i, FinishReason.ABORT);
            samples.add(new Sample(i, new int[0], new float[0], new long[0], "", FinishReason.ABORT, List.of()));
        }
        long now = System.nanoTime();
        future.complete(
                new Completion(request.promptTokens().length, samples, new Timings(now - submittedNs, 0, 0, 0)));
    }

    /** Completes the future with every sample, once the last one finished. */
    void complete() {
        List<Sample> samples = new ArrayList<>(seqs.length);
        for (Seq q : seqs) {
            samples.add(new Sample(
                    q.index,
                    Arrays.copyOf(q.tokens, q.count),
                    Arrays.copyOf(q.logprobs, q.count),
                    Arrays.copyOf(q.versions, q.count),
                    q.text.toString(),
                    q.finish,
                    List.copyOf(q.tops)));
        }
        long now = System.nanoTime();
        future.complete(new Completion(
                request.promptTokens().length,
                samples,
                new Timings(admittedNs - submittedNs, prefilledNs - admittedNs, now - prefilledNs, cachedTokens)));
    }
}
