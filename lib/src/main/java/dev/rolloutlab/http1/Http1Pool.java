package dev.rolloutlab.http1;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * Idle keep-alive connections to one server, reused most-recent-first so the coldest ones age out. A connection idle
 * longer than {@code maxIdle} is closed rather than reused: servers drop idle connections (uvicorn after 5 s), and a
 * request written into a connection the server has just closed fails for no fault of the server.
 */
public final class Http1Pool implements AutoCloseable {
    private final String host;
    private final int port;
    private final boolean tls;
    private final int connectTimeoutMs;
    private final int readTimeoutMs;
    private final long maxIdleNs;
    private final ConcurrentLinkedDeque<Http1Connection> idle = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;

    public Http1Pool(
            String host, int port, boolean tls, Duration connectTimeout, Duration readTimeout, Duration maxIdle) {
        this.host = host;
        this.port = port;
        this.tls = tls;
        this.connectTimeoutMs = (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis());
        this.readTimeoutMs = (int) Math.min(Integer.MAX_VALUE, readTimeout.toMillis());
        this.maxIdleNs = maxIdle.toNanos();
    }

    /** A pooled idle connection if a fresh one is there, else a new one. */
    public Http1Connection acquire() throws IOException {
        long now = System.nanoTime();
        Http1Connection c;
        while ((c = idle.pollFirst()) != null) {
            if (now - c.idleSinceNs < maxIdleNs && !c.isClosed()) return c;
            c.close();
        }
        return open();
    }

    /** A new connection that is not taken from the pool. */
    public Http1Connection open() throws IOException {
        return Http1Connection.open(host, port, tls, connectTimeoutMs, readTimeoutMs);
    }

    /** Returns a connection whose last response was read to its end and allows keep-alive. */
    public void release(Http1Connection c) {
        if (closed || c.in().buffered()) { // bytes beyond the response: the stream is out of step, do not reuse
            c.close();
            return;
        }
        c.markReused();
        c.idleSinceNs = System.nanoTime();
        idle.offerFirst(c);
        if (closed) closeIdle();
    }

    /** Closes idle connections; connections in use are closed when released. */
    @Override
    public void close() {
        closed = true;
        closeIdle();
    }

    private void closeIdle() {
        Http1Connection c;
        while ((c = idle.pollFirst()) != null) c.close();
    }
}
