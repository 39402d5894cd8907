package dev.rolloutlab.bench;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.util.Await;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * When a run's requests are sent: a closed loop, multi-turn sessions, or an open loop at a rate or at a trace's times.
 * Each schedules on the run's virtual threads, hands every request to the {@link Recorder} and ends at the request
 * count, at {@code endNs} or when the recorder says stop.
 */
final class Schedules {
    private Schedules() {}

    /** {@code concurrency} workers, each sending its next request when its last one is answered. */
    static void closed(
            ExecutorService pool, Recorder rec, List<CompletionRequest> reqs, int concurrency, int total, long endNs) {
        AtomicInteger next = new AtomicInteger();
        for (int w = 0; w < concurrency; w++) {
            pool.submit(() -> {
                while (rec.stopReason() == null) {
                    int i = next.getAndIncrement();
                    if (i >= total || System.nanoTime() >= endNs) return;
                    rec.record(i, System.nanoTime(), reqs.get(i % reqs.size()));
                }
            });
        }
    }

    /**
     * Closed loop over multi-turn sessions: each of {@code concurrency} workers runs one session at a time, its turns
     * one after another, each turn's prompt the last one's plus its answer and a tool result, sent after the tool's
     * time. Requests are numbered session by session, turn by turn; a failed turn ends its session.
     */
    static void sessions(
            ExecutorService pool,
            Recorder rec,
            List<CompletionRequest> reqs,
            Workload.Turns turns,
            int concurrency,
            int total,
            long endNs) {
        AtomicInteger next = new AtomicInteger();
        long toolNs = (long) (turns.toolMs() * 1e6);
        for (int w = 0; w < concurrency; w++) {
            pool.submit(() -> {
                while (rec.stopReason() == null) {
                    int s = next.getAndIncrement();
                    if ((long) s * turns.turns() >= total || System.nanoTime() >= endNs) return;
                    CompletionRequest req = reqs.get(s % reqs.size())
                            .withSessionId("session-" + s)
                            .withReturnTokenIds(true);
                    for (int t = 0; t < turns.turns() && rec.stopReason() == null; t++) {
                        long id = (long) s * turns.turns() + t;
                        if (id >= total || System.nanoTime() >= endNs) return;
                        OpenAiClient.Result r = rec.record(id, System.nanoTime(), req);
                        if (!r.ok() || r.tokenIds() == null) break;
                        req = req.toBuilder()
                                .promptTokenIds(turns.next(req.promptTokenIds(), r.tokenIds(), id))
                                .build();
                        // the tool runs: think time, not latency
                        Await.nanoTime(System.nanoTime() + toolNs);
                    }
                }
            });
        }
    }

    /**
     * Open loop: request {@code i} is due at the origin plus {@code atMs[i]} (a trace), or after Poisson or constant
     * gaps at {@code o.rate()}, whatever the targets do. A request held back by {@code o.maxConcurrency()} keeps its
     * due time, so the wait counts as latency.
     */
    static void open(
            ExecutorService pool,
            Recorder rec,
            List<CompletionRequest> reqs,
            double[] atMs,
            LoadGenerator.Options o,
            int total,
            long endNs)
            throws InterruptedException {
        SplittableRandom r = new SplittableRandom(o.seed());
        Semaphore slots = o.maxConcurrency() > 0 ? new Semaphore(o.maxConcurrency()) : null;
        double meanGapNs = atMs != null ? 0 : 1e9 / o.rate();
        double offset = 0;
        for (int i = 0; i < total && rec.stopReason() == null; i++) {
            if (atMs != null) offset = atMs[i] * 1e6;
            long scheduled = rec.originNs() + (long) offset;
            if (scheduled >= endNs) break;
            Await.nanoTime(scheduled);
            if (slots != null) slots.acquire();
            int id = i;
            pool.submit(() -> {
                try {
                    rec.record(id, scheduled, reqs.get(id % reqs.size()));
                } finally {
                    if (slots != null) slots.release();
                }
            });
            offset += o.arrivals() == LoadGenerator.Arrivals.CONSTANT
                    ? meanGapNs
                    : -Math.log(1 - r.nextDouble()) * meanGapNs;
        }
    }
}
