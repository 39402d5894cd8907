package dev.rolloutlab.engine;

/** Why a sample ended, spelled as OpenAI's {@code finish_reason}. */
public enum FinishReason {
    STOP("stop"),
    LENGTH("length"),
    ABORT("abort");

    public final String openai;

    FinishReason(String openai) {
        this.openai = openai;
    }
}
