package dev.rolloutlab.lb;

import dev.rolloutlab.http1.HttpIn;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * Notices a client that hung up while the relay still waits for the backend's first byte (a long non-streamed
 * generation), so the relay can close the backend connection and the backend drops the generation instead of finishing
 * it for nobody. Streams need no watch: their next write fails.
 */
final class ClientWatch {
    private final Socket socket;
    private final HttpIn in;
    private volatile boolean gone;

    ClientWatch(Socket socket, HttpIn in) {
        this.socket = socket;
        this.in = in;
    }

    /** A 1 ms look at the client connection; bytes that arrived (a pipelined request) stay buffered for later. */
    boolean gone() {
        if (gone) return true;
        if (in.buffered()) return false;
        try {
            int normal = socket.getSoTimeout();
            socket.setSoTimeout(1);
            try {
                gone = in.fill() < 0;
            } finally {
                socket.setSoTimeout(normal);
            }
        } catch (SocketTimeoutException e) {
            return false; // nothing arrived: still there
        } catch (IOException e) {
            gone = true; // reset by the peer
        }
        return gone;
    }

    /** Whether {@link #gone} saw the client leave. */
    boolean left() {
        return gone;
    }
}
