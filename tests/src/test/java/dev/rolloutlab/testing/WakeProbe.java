package dev.rolloutlab.testing;

import static dev.rolloutlab.results.Percentiles.median;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.locks.LockSupport;

/**
 * How much later a thread blocked on a loopback socket wakes after a long wait than after a short one. On a VM whose
 * idle vCPUs halt, the wake-up after a byte arrives grows with how long the reader was blocked (median 43 µs after no
 * wait, 159 µs after 5 ms on this machine), so a client behind any delay, a real link's included, sees a little more
 * than the delay. Tests that read a delay from a client's clock allow for this on the upper side, measured here.
 */
public final class WakeProbe {
    private WakeProbe() {}

    /**
     * The median wake-up after a {@code waitMs} block minus the median after none, in ms, over {@code pairs}
     * alternating blocks: what a client waiting {@code waitMs} longer pays beyond it.
     */
    public static double extraMs(double waitMs, int pairs) {
        try (ServerSocket listen = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket client = new Socket(InetAddress.getLoopbackAddress(), listen.getLocalPort());
                Socket server = listen.accept()) {
            client.setTcpNoDelay(true);
            server.setTcpNoDelay(true);
            long[] wroteAt = new long[1];
            Thread writer = Thread.ofPlatform().daemon().start(() -> answer(server, waitMs, wroteAt));
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            double[] longWait = new double[pairs], noWait = new double[pairs];
            for (int i = 0; i < pairs; i++) {
                for (int wait = 1; wait >= 0; wait--) {
                    out.write(wait);
                    out.flush();
                    if (in.read() < 0) throw new IOException("the probe's writer closed");
                    long woke = System.nanoTime();
                    synchronized (wroteAt) {
                        (wait == 1 ? longWait : noWait)[i] = (woke - wroteAt[0]) / 1e6;
                    }
                }
            }
            out.write(255);
            writer.join(1000);
            return median(longWait) - median(noWait);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Holds each request for the wait it names (1: {@code waitMs}, 0: none) the way the simulated link does. */
    private static void answer(Socket s, double waitMs, long[] wroteAt) {
        try (InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream()) {
            for (int b; (b = in.read()) == 0 || b == 1; ) {
                long due = System.nanoTime() + (b == 1 ? (long) (waitMs * 1e6) : 0), spin = 300_000;
                for (long left; (left = due - System.nanoTime()) > spin; ) LockSupport.parkNanos(left - spin);
                while (System.nanoTime() < due) Thread.onSpinWait();
                synchronized (wroteAt) {
                    wroteAt[0] = System.nanoTime();
                }
                out.write(1);
                out.flush();
            }
        } catch (IOException e) {
            // the probe closed its end
        }
    }
}
