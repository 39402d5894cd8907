package dev.rolloutlab.http1;

import java.io.IOException;

/**
 * What a server demands of a client's pace, asked before every blocking read of a message: it may shorten the read's
 * timeout or end the connection with a {@link java.net.SocketTimeoutException}. How a slow client that trickles bytes
 * is told apart from a slow network.
 */
public interface ReadPace {
    ReadPace NONE = (midMessage, bytesRead) -> {};

    /**
     * @param midMessage whether bytes of the current message have arrived (a head under way, or its body)
     * @param bytesRead bytes read from the connection so far
     */
    void beforeRead(boolean midMessage, long bytesRead) throws IOException;
}
