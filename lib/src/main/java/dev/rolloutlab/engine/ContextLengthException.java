package dev.rolloutlab.engine;

/** A request whose prompt plus {@code max_tokens} does not fit the model's context. */
public class ContextLengthException extends IllegalArgumentException {
    public final int promptTokens;
    public final int maxTokens;
    public final int contextLength;

    public ContextLengthException(int promptTokens, int maxTokens, int contextLength) {
        super("this model's maximum context length is " + contextLength + " tokens, but " + (promptTokens + maxTokens)
                + " were requested (" + promptTokens + " in the prompt, " + maxTokens
                + " for max_tokens); shorten the prompt or lower max_tokens");
        this.promptTokens = promptTokens;
        this.maxTokens = maxTokens;
        this.contextLength = contextLength;
    }
}
