package dev.rolloutlab.engine.checkpoint;

/** A checkpoint folder or weight update that cannot be used; the message names the file, tensor or limit. */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
