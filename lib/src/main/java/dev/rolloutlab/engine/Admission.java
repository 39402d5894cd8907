package dev.rolloutlab.engine;

import dev.rolloutlab.engine.checkpoint.ModelConfig;

/**
 * What the engine refuses before it queues a request, each with the field at fault: a prompt and {@code max_tokens}
 * past the context, and token ids (prompt or stop) outside the vocabulary.
 */
final class Admission {
    private Admission() {}

    static void check(GenerationRequest request, ModelConfig config) {
        int ctx = config.maxPositions();
        int len = request.promptTokens().length;
        if ((long) len + request.params().maxTokens() > ctx) { // long: a huge max_tokens must not wrap past the check
            throw new ContextLengthException(len, request.params().maxTokens(), ctx);
        }
        for (int t : request.promptTokens()) {
            if (t < 0 || t >= config.vocabSize()) {
                throw new InvalidRequestException(
                        "prompt",
                        "prompt token id " + t + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        for (int t : request.params().stopTokenIds()) {
            if (t < 0 || t >= config.vocabSize()) {
                throw new InvalidRequestException(
                        "stop_token_ids",
                        "stop token id " + t + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
    }
}
