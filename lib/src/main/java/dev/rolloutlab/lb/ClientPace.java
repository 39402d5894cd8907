package dev.rolloutlab.lb;

import dev.rolloutlab.http1.ReadPace;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * The deadlines one client connection lives under, as nginx's {@code client_header_timeout} and a body rate floor: an
 * idle wait for the next request, then the whole head within the header timeout of its first byte, then the body at no
 * less than the floor rate after a grace of the same length. A socket trickling a byte a minute holds its slot for one
 * header timeout, not for as long as it likes.
 */
final class ClientPace implements ReadPace {
    private final Socket socket;
    private final long headerNs;
    private final long minBytesPerSec;
    private int idleMs;
    private long headStartNs = -1;
    private boolean bodyPending;
    private long bodyStartNs = -1, bodyStartBytes;
    private int timeoutMs = -1;

    ClientPace(Socket socket, LbOptions.ClientLimits limits) {
        this.socket = socket;
        this.headerNs = limits.headerTimeout().toNanos();
        this.minBytesPerSec = limits.minBodyBytesPerSec();
    }

    /** The next request may take {@code idleMs} to start. */
    void awaitHead(int idleMs) {
        this.idleMs = idleMs;
        headStartNs = bodyStartNs = -1;
        bodyPending = false;
    }

    /** The head was read: what follows is its body. */
    void bodyStarts() {
        bodyPending = true;
    }

    @Override
    public void beforeRead(boolean midMessage, long bytesRead) throws IOException {
        long now = System.nanoTime();
        if (bodyPending) {
            bodyPending = false;
            bodyStartNs = now;
            bodyStartBytes = bytesRead;
        }
        long left;
        if (bodyStartNs >= 0) {
            long allowed = headerNs + (bytesRead - bodyStartBytes) * 1_000_000_000L / minBytesPerSec;
            left = allowed - (now - bodyStartNs);
            if (left <= 0) throw new SocketTimeoutException("request body slower than " + minBytesPerSec + " bytes/s");
        } else if (midMessage) {
            if (headStartNs < 0) headStartNs = now;
            left = headerNs - (now - headStartNs);
            if (left <= 0)
                throw new SocketTimeoutException("request head not complete within " + headerNs / 1_000_000 + " ms");
        } else {
            setTimeout(idleMs);
            return;
        }
        setTimeout((int) Math.max(1, Math.min(idleMs, left / 1_000_000)));
    }

    private void setTimeout(int ms) throws IOException {
        if (ms != timeoutMs) {
            socket.setSoTimeout(ms);
            timeoutMs = ms;
        }
    }
}
