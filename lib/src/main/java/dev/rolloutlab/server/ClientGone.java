package dev.rolloutlab.server;

import io.javalin.http.Context;
import java.nio.ByteBuffer;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.io.AbstractEndPoint;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.Callback;

/**
 * Watches a connection while a non-streamed answer is computed, so a generation nobody will read is cancelled instead
 * of holding the engine (streams notice on their next write). Jetty reads nothing while a handler runs, so a client's
 * close goes unseen; this asks for read readiness and reads: end of stream means the client left. Bytes instead mean
 * the client pipelined a request after a POST (RFC 9112 says it should not): they cannot be handed back to Jetty, so
 * the connection is closed after this answer and the client resends.
 */
final class ClientGone implements AutoCloseable {
    private final EndPoint endPoint;
    private final AtomicBoolean watching = new AtomicBoolean(true);
    private volatile boolean consumedBytes;

    private ClientGone(EndPoint endPoint) {
        this.endPoint = endPoint;
    }

    /** Starts watching; {@code onGone} runs once if the client closes before {@link #close()}. */
    static ClientGone watch(Context ctx, Runnable onGone) {
        ServletContextRequest r = ServletContextRequest.getServletContextRequest(ctx.req());
        EndPoint ep =
                r == null ? null : r.getConnectionMetaData().getConnection().getEndPoint();
        ClientGone w = new ClientGone(ep);
        if (ep != null) w.arm(onGone);
        return w;
    }

    private void arm(Runnable onGone) {
        if (!watching.get()) return;
        endPoint.tryFillInterested(Callback.from(
                () -> {
                    if (!watching.get()) return;
                    try {
                        ByteBuffer one = ByteBuffer.allocate(1).limit(0); // Jetty fills from limit to capacity
                        int n = endPoint.fill(one);
                        if (n < 0) onGone.run();
                        else if (n > 0) consumedBytes = true;
                        else arm(onGone);
                    } catch (Exception e) {
                        onGone.run();
                    }
                },
                failure -> {
                    if (watching.get()) onGone.run();
                }));
    }

    /** Whether this connection must close after the answer (the watcher swallowed bytes of a pipelined request). */
    boolean mustClose() {
        return consumedBytes;
    }

    /** Stops watching before Jetty reads the connection again for the next request. */
    @Override
    public void close() {
        if (watching.compareAndSet(true, false) && endPoint instanceof AbstractEndPoint a) {
            a.getFillInterest().onFail(new CancellationException("answer ready")); // ignored: no longer watching
        }
    }
}
