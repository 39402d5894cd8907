package dev.rolloutlab.engine;

/**
 * Receives tokens as they are sampled. Called on the engine's scheduler thread: implementations must not block (hand
 * the token to a queue instead), or every sequence in the batch waits.
 */
public interface TokenListener {
    TokenListener NONE = (sample, tokenId, logprob, version, text) -> {};

    /** {@code text} is the newly complete text, possibly empty while a multi-byte character is unfinished. */
    void onToken(int sample, int tokenId, float logprob, long version, String text);

    default void onFinish(int sample, FinishReason reason) {}
}
