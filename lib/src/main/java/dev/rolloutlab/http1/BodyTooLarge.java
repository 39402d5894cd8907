package dev.rolloutlab.http1;

import java.net.ProtocolException;

/** A body past the reader's limit: a 413, where any other {@link ProtocolException} is a malformed message (400). */
public final class BodyTooLarge extends ProtocolException {
    public BodyTooLarge(String message) {
        super(message);
    }
}
