package dev.rolloutlab.sim;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A link's delay, added in user space because this machine's kernel has no {@code sch_netem}: a TCP relay on loopback
 * in front of one simulated port that holds every chunk for the one-way delay (half the round trip, plus jitter) in
 * each direction, in order, and passes bytes through otherwise, so throughput is the link's. What it cannot model:
 * loss, and the delay of TCP's own ACKs (it acknowledges locally), which matters only for very long fat links.
 */
final class DelayRelay implements AutoCloseable {
    private static final byte[] EOF = new byte[0];
    /**
     * Platform threads carry the bytes: a parked virtual thread is woken through the JDK's timer and poller and then
     * waits for a carrier, which on two busy cores added tenths of a millisecond to every hop of a link that must be
     * accurate to a tenth; a platform thread wakes on its own futex. Small stacks keep a fleet's thousands affordable.
     */
    private static final Thread.Builder PIPES =
            Thread.ofPlatform().name("relay-pipe").daemon(true).stackSize(128 << 10);

    private final ServerSocket server;
    private final InetSocketAddress upstream;
    private final long oneWayNs;
    private final long jitterNs;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    /**
     * The relay's own one-way cost (thread hand-offs, timer slack), measured by {@link LinkCheck} and taken off the
     * delay.
     */
    private volatile long compensationNs;

    DelayRelay(InetSocketAddress upstream, double rttMs, double jitterMs) throws IOException {
        this.upstream = upstream;
        this.oneWayNs = (long) (rttMs / 2 * 1e6);
        this.jitterNs = (long) (jitterMs / 2 * 1e6);
        this.server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("relay-" + upstream).start(this::accept);
    }

    /** Takes {@code oneWayMs} of the relay's own cost off every delay from now on. */
    void compensate(double oneWayMs) {
        compensationNs = (long) (oneWayMs * 1e6);
    }

    String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket up = new Socket();
                up.connect(upstream, 10_000);
                for (Socket s : new Socket[] {client, up}) {
                    s.setTcpNoDelay(true);
                    open.add(s);
                }
                AtomicInteger directions = new AtomicInteger(2);
                pipe(client, up, directions);
                pipe(up, client, directions);
            } catch (IOException e) {
                // a refused upstream closes the client connection; a closed relay ends the loop
            }
        }
    }

    /** Copies {@code from} to {@code to}, each chunk leaving one-way-delay after it arrived, never reordered. */
    private void pipe(Socket from, Socket to, AtomicInteger directions) {
        LinkedBlockingQueue<Object[]> q = new LinkedBlockingQueue<>();
        SplittableRandom r = new SplittableRandom();
        PIPES.start(() -> {
            long lastDue = 0;
            byte[] buf = new byte[64 << 10];
            try (InputStream in = from.getInputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    long delay = Math.max(
                            0, oneWayNs - compensationNs + (jitterNs == 0 ? 0 : r.nextLong(-jitterNs, jitterNs + 1)));
                    long due = Math.max(lastDue, System.nanoTime() + delay);
                    lastDue = due;
                    q.add(new Object[] {due, Arrays.copyOf(buf, n)});
                }
            } catch (IOException e) {
                // the peer went away: pass the end on
            }
            q.add(new Object[] {lastDue, EOF});
        });
        PIPES.start(() -> {
            try {
                OutputStream out =
                        to.getOutputStream(); // closing it would close the socket, and the other direction with it
                while (true) {
                    Object[] item = q.take();
                    long wait;
                    while ((wait = (long) item[0] - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
                    byte[] b = (byte[]) item[1];
                    if (b == EOF) break;
                    out.write(b);
                    out.flush();
                }
                to.shutdownOutput();
            } catch (IOException | InterruptedException e) {
                close(from, to); // a broken direction ends the connection
            } finally {
                if (directions.decrementAndGet() == 0) close(from, to);
            }
        });
    }

    private void close(Socket a, Socket b) {
        for (Socket s : new Socket[] {a, b}) {
            open.remove(s);
            try {
                s.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // already closed
        }
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }
}
