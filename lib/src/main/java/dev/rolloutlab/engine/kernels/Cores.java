package dev.rolloutlab.engine.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * How the engine's kernels share this machine's cores: forward passes running at once divide the cores among
 * themselves, and one parallel call is cut into chunks that the caller and pool workers claim.
 */
public final class Cores {
    /**
     * Below this many multiply-adds a matmul runs on the calling thread: waking a worker costs more than it saves. A
     * single decode row's 288 x 288 matmul (83 K) is above it: with claimed chunks it ran 15-20 % faster split.
     */
    static final long PARALLEL_WORK = 1L << 16;

    private static final int PARTS = Runtime.getRuntime().availableProcessors();
    /**
     * Forward passes running in this process now. They divide the cores among themselves rather than each splitting
     * across all of them: four engines of one {@code serve} on 2 cores, each splitting in two, kept 6 threads busy on 2
     * cores: a prefill beside decoding engines starved (mean time to first token 72 ms, 27 ms after) and the time
     * between tokens varied by 45 % within a stream (28 % after), at throughput not distinguishable.
     */
    private static final AtomicInteger RUNNING = new AtomicInteger();
    /**
     * Workers for all cores but the caller's, which computes a share itself. Not the common pool: engine kernels must
     * not queue behind unrelated parallel streams.
     */
    private static final ForkJoinPool POOL = new ForkJoinPool(
            Math.max(1, Runtime.getRuntime().availableProcessors() - 1),
            pool -> {
                var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("engine-kernel-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            },
            null,
            false);

    private Cores() {}

    /**
     * Marks a forward pass running until {@link #forwardEnded()}: while others run too, each gets a share of the cores.
     */
    public static void forwardStarted() {
        RUNNING.incrementAndGet();
    }

    public static void forwardEnded() {
        RUNNING.decrementAndGet();
    }

    static int parts() {
        return Math.max(1, PARTS / Math.max(1, RUNNING.get()));
    }

    /** Runs body(i) for i in [0, n), split across cores (the caller takes a share) when {@code work} pays for it. */
    public static void parallelFor(int n, long work, IntConsumer body) {
        int parts = Math.min(parts(), n);
        if (n <= 1 || work < PARALLEL_WORK || parts < 2) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        share(n, Math.max(1, n / (CLAIMS * parts)), parts, (from, to) -> {
            for (int i = from; i < to; i++) body.accept(i);
        });
    }

    /** Claims per participant a parallel call is cut into: enough for a late or preempted core to cost little. */
    static final int CLAIMS = 8;

    /** Spin-wait iterations (about 20 µs) before the caller parks to wait for chunks still in flight. */
    private static final int SPINS = 500;

    /** Items {@code [from, to)} of one parallel call. */
    interface Items {
        void run(int from, int to);
    }

    /**
     * Runs items {@code [0, n)} on the caller and {@code parts - 1} pool workers, each claiming the next {@code chunk}
     * items until none are left. Claims, not fixed shares: a parked worker on this VM can take longer to wake than a
     * decode step's whole matmul runs (fixed halves ran batch-16 decode's GEMM at a sixth of the cores' peak), so the
     * caller takes what no worker has claimed and then waits only for claimed chunks. A worker woken after the call
     * ended finds nothing left and returns.
     */
    static void share(int n, int chunk, int parts, Items body) {
        AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread caller = Thread.currentThread();
        Runnable claim = () -> {
            for (int from; (from = next.getAndAdd(chunk)) < n; ) {
                int to = Math.min(n, from + chunk);
                try {
                    body.run(from, to);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (done.addAndGet(to - from) == n && Thread.currentThread() != caller) LockSupport.unpark(caller);
                }
            }
        };
        for (int p = 1; p < parts; p++) POOL.execute(claim);
        claim.run();
        // a chunk in flight usually ends within microseconds; past a short spin, sleep rather than hold a core that
        // serve's HTTP threads (or the worker itself) may need
        for (int spins = 0; done.get() < n && spins < SPINS; spins++) Thread.onSpinWait();
        while (done.get() < n) LockSupport.park(next);
        Throwable t = failure.get();
        if (t instanceof RuntimeException e) throw e;
        if (t instanceof Error e) throw e;
        if (t != null) throw new IllegalStateException(t);
    }
}
