package dev.rolloutlab.compare;

import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.util.Ports;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The freshness experiment's own servers: the one its push and reload strategies share (warmed, and reset to the
 * checkpoint before each strategy) and {@code http-restart}'s, which each of its steps restarts. Both start in the
 * background, so a run starts them beside its other processes instead of after its grid.
 */
final class FreshnessServers implements AutoCloseable {
    /** Untimed batches, each followed by a push, that the fresh shared server gets before the first strategy on it. */
    private static final int WARM_BATCHES = 3;

    /** A thread of its own for each server's start: they wait on their processes, side by side. */
    private static final Executor BESIDE = r -> Thread.ofVirtual().start(r);

    private final CompletableFuture<WeightPush> shared, restarted;
    /** The checkpoint's weights, which every strategy on the shared server starts from. */
    private volatile Map<String, Tensor> initial;

    /**
     * Starts the servers {@code strategies} need, {@code ports} ports each, through {@code push} (a server on the given
     * ports); the shared one warms on {@code batch(step, servers)}.
     */
    FreshnessServers(
            List<Strategy> strategies,
            int ports,
            Path model,
            Function<List<Integer>, WeightPush> push,
            BiFunction<Integer, Integer, List<GenerationRequest>> batch) {
        boolean anyShared = strategies.stream().anyMatch(s -> s != Strategy.INPROC_SWAP && s != Strategy.RESTART);
        List<Integer> free = Ports.free(2 * ports); // at once: ports asked for side by side could coincide
        shared = !anyShared
                ? null
                : CompletableFuture.supplyAsync(
                        () -> {
                            WeightPush p = push.apply(free.subList(0, ports)).start("freshness-serve", 0);
                            try {
                                initial = Checkpoint.load(model).weights().tensors();
                                warm(p, batch);
                                return p;
                            } catch (RuntimeException e) {
                                p.close();
                                throw e;
                            }
                        },
                        BESIDE);
        restarted = !strategies.contains(Strategy.RESTART)
                ? null
                : CompletableFuture.supplyAsync(
                        () -> push.apply(free.subList(ports, 2 * ports)).start(Strategy.RESTART.wire(), 0), BESIDE);
    }

    /**
     * Waits until the servers are up and warm, or failed to start: a failure is the failure of the strategies on that
     * server, which {@link #shared} and {@link #restarted} throw.
     */
    void await() {
        for (CompletableFuture<WeightPush> f : Arrays.asList(shared, restarted))
            if (f != null) f.exceptionally(e -> null).join();
    }

    /** The shared server, once up and warm, reset to {@link #initial} by each strategy. */
    WeightPush shared() {
        return started(shared);
    }

    Map<String, Tensor> initial() {
        started(shared);
        return initial;
    }

    /** {@code http-restart}'s server, once up; the caller closes it after the strategy. */
    WeightPush restarted() {
        return started(restarted);
    }

    /** Stops the servers, started or starting. */
    @Override
    public void close() {
        for (CompletableFuture<WeightPush> f : Arrays.asList(shared, restarted))
            if (f != null)
                f.thenAccept(WeightPush::close).exceptionally(e -> null).join();
    }

    /**
     * Brings the fresh shared server's sampling and upload paths to the warmth the in-process engines have (they run in
     * the measuring JVM after the whole grid): unwarmed, the first strategy on it rolled out its batches 3-4 times
     * slower than the strategies after it on the same server (1.8 s against 0.4-0.6 s).
     */
    private void warm(WeightPush push, BiFunction<Integer, Integer, List<GenerationRequest>> batch) {
        try (ServerBatches servers = new ServerBatches(push.urls(), "m")) {
            for (int b = 0; b < WARM_BATCHES; b++) {
                servers.send(batch.apply(-1 - b, servers.servers()));
                push.reset(initial);
            }
        }
    }

    /** The server {@code f} started; its start's failure as it was thrown. */
    private static WeightPush started(CompletableFuture<WeightPush> f) {
        if (f == null) throw new IllegalStateException("no freshness server was started for this strategy");
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw e;
        }
    }
}
