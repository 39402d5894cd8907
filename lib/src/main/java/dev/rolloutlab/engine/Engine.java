package dev.rolloutlab.engine;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Something that turns prompts into sampled completions. Two implementations matter: {@link InProcessEngine} (the model
 * in this JVM) and {@code dev.rolloutlab.openai.HttpEngine} (an OpenAI server), so one workload can be run through
 * either and compared.
 */
public interface Engine extends AutoCloseable {

    /** Queues a request; the future completes when all its samples have finished. */
    CompletableFuture<Completion> submit(GenerationRequest request, TokenListener listener);

    default Completion generate(GenerationRequest request) {
        try {
            return submit(request, TokenListener.NONE).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw e;
        }
    }

    /** A short name for results: the engine's own name in this process, or the base URL of a server. */
    String name();

    @Override
    void close();
}
