package dev.rolloutlab.server;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * A simulated host's network link, applied inside its own server instead of by a relay: each request is held for the
 * one-way delay before it is handled, and each response byte (each streamed chunk) arrives one-way delay after a real
 * server would have written it, so a client sees the link's round trip and nothing of a relay's thread hand-offs or
 * extra hops. One per {@code serve --engine sim} process (a host), set at run time by the fleet ({@code POST
 * /admin/sim_link}); zero until then.
 *
 * <p>The waits park the handling thread and spin out the last {@value #SPIN_US} µs, so they end within a few µs of
 * their deadline unless the machine withholds the core; each wait's lateness is kept (the last {@value #KEPT}), and
 * {@link #timerError()} states it.
 */
public final class LinkDelay {
    /** The spin that follows a park: a parked thread wakes up to tenths of a millisecond late on a busy 2-core VM. */
    static final long SPIN_US = 300;

    static final int KEPT = 4096;
    /** The most one way can be: far beyond any data centre link, small enough that a typo cannot hang a fleet. */
    public static final double MAX_ONE_WAY_MS = 1000;

    private volatile long oneWayNs, jitterNs;
    private final long[] lateNs = new long[KEPT];
    private int next, count;
    private final SplittableRandom random = new SplittableRandom();

    /** Sets the round trip this host's link adds, and its jitter (each way gets half of both). */
    public synchronized void set(double rttMs, double jitterMs) {
        if (!(rttMs >= 0 && rttMs / 2 <= MAX_ONE_WAY_MS))
            throw new IllegalArgumentException("rtt_ms must be in [0, " + 2 * MAX_ONE_WAY_MS + "], got " + rttMs);
        if (!(jitterMs >= 0 && jitterMs <= rttMs))
            throw new IllegalArgumentException("jitter_ms must be in [0, rtt_ms], got " + jitterMs);
        oneWayNs = (long) (rttMs / 2 * 1e6);
        jitterNs = (long) (jitterMs / 2 * 1e6);
    }

    /** The round trip set, in ms. */
    public double rttMs() {
        return 2 * oneWayNs / 1e6;
    }

    /** The jitter set, in ms (each way varies by up to half of it). */
    public double jitterMs() {
        return 2 * jitterNs / 1e6;
    }

    /** Whether there is a delay to apply at all: a host at zero takes no timer on its path. */
    public boolean active() {
        return oneWayNs > 0;
    }

    /**
     * Holds the calling thread until one-way delay (plus this way's jitter) after {@code sinceNs}, a
     * {@link System#nanoTime()}; returns at once past it. Returns the delay applied, in ns: the network's share of what
     * follows, which a server's own timings leave out.
     */
    public long holdFrom(long sinceNs) {
        long d = oneWayNs;
        if (d <= 0) return 0;
        long j = jitterNs;
        if (j > 0) {
            synchronized (random) {
                d = Math.max(0, d + random.nextLong(-j, j + 1));
            }
        }
        long due = sinceNs + d, spin = SPIN_US * 1000;
        long left = due - System.nanoTime();
        if (left <= 0) return d; // already due (the writer was behind): no wait, and nothing to say of the timer
        for (; left > spin; left = due - System.nanoTime()) LockSupport.parkNanos(left - spin);
        while (System.nanoTime() < due) Thread.onSpinWait();
        record(System.nanoTime() - due);
        return d;
    }

    private synchronized void record(long late) {
        lateNs[next] = late;
        next = (next + 1) % KEPT;
        count = Math.min(KEPT, count + 1);
    }

    /** How late the waits ended: median and 99th percentile, in µs, over the last waits (none: NaN). */
    public synchronized TimerError timerError() {
        if (count == 0) return new TimerError(0, Double.NaN, Double.NaN);
        long[] a = Arrays.copyOf(lateNs, count);
        Arrays.sort(a);
        return new TimerError(count, a[(count - 1) / 2] / 1e3, a[(int) Math.ceil(0.99 * count) - 1] / 1e3);
    }

    /** The lateness of a link's waits: how many were measured, their median and 99th percentile in µs. */
    public record TimerError(int waits, double medianUs, double p99Us) {}
}
