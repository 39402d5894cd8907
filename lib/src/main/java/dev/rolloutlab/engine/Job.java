package dev.rolloutlab.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** One submitted request inside the scheduler: its samples ({@link Seq}s), how many are unfinished, and its future. */
final class Job {
    final GenerationRequest request;
    final TokenListener listener;
    final CompletableFuture<Completion> future = new CompletableFuture<>();
    Seq[] seqs;
    int unfinished;
    long seed;
    final long submittedNs = System.nanoTime();
    long admittedNs, prefilledNs;

    Job(GenerationRequest request, TokenListener listener) {
        this.request = request;
        this.listener = listener;
    }

    /** Completes the future with every sample, once the last one finished. */
    void complete() {
        List<Sample> samples = new ArrayList<>(seqs.length);
        for (Seq q : seqs) {
            samples.add(new Sample(q.index, Arrays.copyOf(q.tokens, q.count), Arrays.copyOf(q.logprobs, q.count),
                    Arrays.copyOf(q.versions, q.count), q.text.toString(), q.finish, List.copyOf(q.tops)));
        }
        long now = System.nanoTime();
        future.complete(new Completion(request.promptTokens().length, samples,
                new Timings(admittedNs - submittedNs, prefilledNs - admittedNs, now - prefilledNs)));
    }
}
