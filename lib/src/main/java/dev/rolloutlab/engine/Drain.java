package dev.rolloutlab.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Quiescing an engine before a weight swap, so no request spans two versions: wait for the requests in flight up to a
 * deadline, then abort the rest. The caller stops new requests first (serve answers 503 during a change).
 *
 * @param quiesceMs from the start of the drain until nothing was running
 * @param inFlight requests in flight when the drain began
 * @param aborted of those, how many the deadline cut short
 * @param tokensThrownAway tokens the aborted requests had generated: work an RL trainer discards
 */
public record Drain(double quiesceMs, int inFlight, int aborted, long tokensThrownAway) {
    /** Aborted requests end at the engine's next step; this bounds the wait for that step. */
    private static final long ABORT_WAIT_MS = 30_000;

    public static Drain of(InProcessEngine engine, Duration deadline) {
        long t0 = System.nanoTime();
        List<CompletableFuture<Completion>> in = engine.outstanding();
        try {
            CompletableFuture.allOf(in.toArray(CompletableFuture[]::new))
                    .get(deadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            // past the deadline (or one failed): abort whatever still runs
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<CompletableFuture<Completion>> cut = new ArrayList<>();
        for (CompletableFuture<Completion> f : in) if (engine.abort(f)) cut.add(f);
        long tokens = 0;
        for (CompletableFuture<Completion> f : cut) {
            try {
                tokens += f.get(ABORT_WAIT_MS, TimeUnit.MILLISECONDS).completionTokens();
            } catch (TimeoutException | ExecutionException | CancellationException e) {
                // a request that failed or was cancelled meanwhile threw nothing away that we can count
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new Drain((System.nanoTime() - t0) / 1e6, in.size(), cut.size(), tokens);
    }
}
