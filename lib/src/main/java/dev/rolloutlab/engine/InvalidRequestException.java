package dev.rolloutlab.engine;

/** A request the engine refuses before it queues it, naming the field at fault (OpenAI's {@code param}). */
public class InvalidRequestException extends IllegalArgumentException {
    public final String param;

    public InvalidRequestException(String param, String message) {
        super(message);
        this.param = param;
    }
}
