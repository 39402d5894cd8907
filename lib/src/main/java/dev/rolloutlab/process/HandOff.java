package dev.rolloutlab.process;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * What handing work to a thread on another CPU costs here: the CPU time of one loopback round trip between two threads
 * pinned to different CPUs, which wakes each CPU once. A request over HTTP is a chain of such hand-offs (client,
 * selector, handler, engine and back); on a VM each wakes a halted vCPU through the hypervisor, so its price moves with
 * the host, by 40 % within minutes on the 2-core VM, while a computation without hand-offs stays put.
 */
public final class HandOff {
    private HandOff() {}

    /** Round trips a reading averages over: about a tenth of a second on the 2-core VM. */
    static final int TRIPS = 1000;

    private static final int TIMEOUT_MS = 10_000;

    /**
     * Microseconds of CPU, both threads together, one round trip between CPUs 0 and 1 costs: the best of nine readings
     * after an unread one (the first runs before the JIT). NaN with fewer than two CPUs or where threads cannot be
     * pinned (no Linux {@code taskset}): unpinned, the scheduler puts both on one CPU for a while and a trip costs a
     * fifth.
     */
    public static double crossCpuUs() {
        if (Runtime.getRuntime().availableProcessors() < 2) return Double.NaN;
        try {
            trip(TRIPS);
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 9; i++) best = Math.min(best, trip(TRIPS));
            return best;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Double.NaN;
        }
    }

    /** One reading: {@code n} round trips of 64 bytes, the echo on CPU 1 and the sender on CPU 0. */
    private static double trip(int n) throws IOException, InterruptedException {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long[] cpuNs = new long[2];
        RuntimeException[] failed = new RuntimeException[1];
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            listener.setSoTimeout(TIMEOUT_MS); // a sender that failed to start leaves no one to accept
            Thread echo = Thread.ofPlatform().name("hand-off echo").start(() -> {
                try (Socket s = listener.accept()) {
                    cpuNs[1] = pinnedLoop(s, 1, n, false, mx);
                } catch (IOException e) {
                    failed[0] = new UncheckedIOException(e);
                } catch (RuntimeException e) {
                    failed[0] = e;
                }
            });
            Thread sender = Thread.ofPlatform().name("hand-off sender").start(() -> {
                try (Socket s = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort())) {
                    cpuNs[0] = pinnedLoop(s, 0, n, true, mx);
                } catch (IOException e) {
                    failed[0] = new UncheckedIOException(e);
                } catch (RuntimeException e) {
                    failed[0] = e;
                }
            });
            sender.join();
            echo.join();
        }
        if (failed[0] != null) throw failed[0];
        return (cpuNs[0] + cpuNs[1]) / 1e3 / n;
    }

    /** Pins this thread to {@code cpu}, then sends first or echoes {@code n} times; returns the CPU time it took. */
    private static long pinnedLoop(Socket s, int cpu, int n, boolean sendFirst, ThreadMXBean mx) throws IOException {
        pin(cpu);
        s.setTcpNoDelay(true);
        s.setSoTimeout(TIMEOUT_MS); // the other thread failed: a read would wait for ever
        InputStream in = s.getInputStream();
        OutputStream out = s.getOutputStream();
        byte[] b = new byte[64];
        long c0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < n; i++) {
            if (sendFirst) out.write(b);
            if (in.readNBytes(b, 0, b.length) < b.length) throw new IOException("the other thread closed early");
            if (!sendFirst) out.write(b);
        }
        return mx.getCurrentThreadCpuTime() - c0;
    }

    /**
     * Binds the calling thread to one CPU: {@code taskset} on its thread id, which Java 21 cannot reach otherwise. The
     * thread waits for it, so it wakes on that CPU.
     */
    static void pin(int cpu) throws IOException {
        String tid = Files.readSymbolicLink(Path.of("/proc/thread-self"))
                .getFileName()
                .toString();
        Process p = new ProcessBuilder("taskset", "-p", "-c", String.valueOf(cpu), tid)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            if (!p.waitFor(TIMEOUT_MS, TimeUnit.MILLISECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("taskset could not pin thread " + tid + " to CPU " + cpu);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while pinning to CPU " + cpu);
        }
    }
}
