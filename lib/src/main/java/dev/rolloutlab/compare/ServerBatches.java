package dev.rolloutlab.compare;

import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.openai.HttpEngine;
import dev.rolloutlab.openai.OpenAiClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import okhttp3.OkHttpClient;

/**
 * A training step's batch sent to HTTP servers, as the freshness experiment's rollout side: request {@code k} goes to
 * server {@code k} first and, while servers restart, to the others in turn, until a restart could not still be under
 * way.
 */
final class ServerBatches implements AutoCloseable {
    /** An answer, or why there is none, after the retries a restarting fleet needs. */
    record Attempt(Completion completion, String backend, boolean retried, String error) {}

    /**
     * How long a request keeps trying while servers restart: serve's own start-up bound, so a request is lost only when
     * a server could not have come back, not when a loaded machine restarts it slowly.
     */
    private static final Duration RETRY_FOR = Duration.ofSeconds(120);

    private final List<HttpEngine> engines;
    private final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();

    /** One client for every server; idle connections are dropped before serve's idle timeout would close them. */
    ServerBatches(List<String> urls, String modelName) {
        OkHttpClient shared =
                OpenAiClient.http(Math.max(64, urls.size()), Duration.ofMinutes(10), Duration.ofSeconds(30));
        engines = urls.stream()
                .map(u -> new HttpEngine(shared, u, null, modelName))
                .toList();
    }

    int servers() {
        return engines.size();
    }

    /** Sends {@code reqs} at once; each one's attempt, in order, when every request is done. */
    List<Attempt> send(List<GenerationRequest> reqs) {
        List<CompletableFuture<Attempt>> fs = new ArrayList<>();
        for (int i = 0; i < reqs.size(); i++) {
            int k = i;
            fs.add(CompletableFuture.supplyAsync(() -> sendWithRetry(reqs.get(k), k), pool));
        }
        return fs.stream().map(CompletableFuture::join).toList();
    }

    private Attempt sendWithRetry(GenerationRequest r, int k) {
        String error = null;
        long deadline = System.nanoTime() + RETRY_FOR.toNanos();
        for (int attempt = 0; attempt == 0 || System.nanoTime() < deadline; attempt++) {
            // a restarting server refuses connections; the client tries the others, then waits and tries again
            if (attempt > engines.size() && !pause()) break;
            HttpEngine e = engines.get((k + attempt) % engines.size());
            try {
                return new Attempt(e.generate(r), e.name(), attempt > 0, null);
            } catch (RuntimeException failed) {
                error = String.valueOf(failed.getMessage());
            }
        }
        return new Attempt(null, "", true, error);
    }

    /** A quarter of a second between rounds of retries; false when interrupted, which ends them. */
    private static boolean pause() {
        try {
            Thread.sleep(250);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        pool.close();
        engines.forEach(HttpEngine::close);
    }
}
