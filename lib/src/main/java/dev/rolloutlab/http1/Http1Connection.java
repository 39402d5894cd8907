package dev.rolloutlab.http1;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.function.BooleanSupplier;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One client connection to an HTTP/1.1 server: a socket with Nagle off, a {@link HttpIn} and a raw output stream. A
 * request is written with one write call where it fits, so a small request is one TCP segment.
 */
public final class Http1Connection implements Closeable {
    private static final int COALESCE = 64 * 1024;

    private final Socket socket;
    private final HttpIn in;
    private final OutputStream out;
    private final long connectNs;
    private boolean reused;
    long idleSinceNs;

    private Http1Connection(Socket socket, long connectNs) throws IOException {
        this.socket = socket;
        this.in = new HttpIn(socket.getInputStream());
        this.out = socket.getOutputStream();
        this.connectNs = connectNs;
    }

    /**
     * Connects (and for TLS, handshakes) within {@code connectTimeoutMs}; reads time out after {@code readTimeoutMs}.
     */
    public static Http1Connection open(String host, int port, boolean tls, int connectTimeoutMs, int readTimeoutMs)
            throws IOException {
        long t0 = System.nanoTime();
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(new InetSocketAddress(host, port), connectTimeoutMs);
            s.setSoTimeout(readTimeoutMs);
            if (tls) {
                SSLSocket ssl = (SSLSocket)
                        ((SSLSocketFactory) SSLSocketFactory.getDefault()).createSocket(s, host, port, true);
                ssl.startHandshake();
                s = ssl;
            }
            return new Http1Connection(s, System.nanoTime() - t0);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** Time spent connecting (TCP, plus TLS when used). */
    public long connectNs() {
        return connectNs;
    }

    /** Whether this connection served an earlier request (then a failure before any byte may be a stale close). */
    public boolean reused() {
        return reused;
    }

    void markReused() {
        reused = true;
    }

    public HttpIn in() {
        return in;
    }

    /** Writes a request head and body; small ones in a single write. */
    public void send(byte[] head, byte[] body, int bodyLen) throws IOException {
        if (bodyLen > 0 && head.length + bodyLen <= COALESCE) {
            byte[] all = new byte[head.length + bodyLen];
            System.arraycopy(head, 0, all, 0, head.length);
            System.arraycopy(body, 0, all, head.length, bodyLen);
            out.write(all);
        } else {
            out.write(head);
            if (bodyLen > 0) out.write(body, 0, bodyLen);
        }
    }

    /** The raw output stream, for streaming a large request body after {@link #send}. */
    public OutputStream out() {
        return out;
    }

    /**
     * Reads the response head, waking every {@code sliceMs} while no head has arrived to ask {@code giveUp} whether to
     * stop waiting (then a {@link java.net.SocketTimeoutException} is thrown). Partial bytes are kept across wake-ups,
     * so a slow head is never corrupted; the socket's read timeout is restored after.
     */
    public Head readResponse(int sliceMs, BooleanSupplier giveUp) throws IOException {
        int normal = socket.getSoTimeout();
        socket.setSoTimeout(sliceMs);
        try {
            while (true) {
                try {
                    return readResponse();
                } catch (SocketTimeoutException e) {
                    if (giveUp.getAsBoolean()) throw e;
                }
            }
        } finally {
            if (!socket.isClosed()) socket.setSoTimeout(normal);
        }
    }

    /** Reads the response head, skipping interim 1xx responses. */
    public Head readResponse() throws IOException {
        while (true) {
            Head h = in.readHead(false);
            if (h == null) throw new EOFException("server closed the connection before responding");
            if (h.status() / 100 != 1 || h.status() == 101) return h;
        }
    }

    public boolean isClosed() {
        return socket.isClosed();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing is best effort
        }
    }
}
