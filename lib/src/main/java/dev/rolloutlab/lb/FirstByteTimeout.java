package dev.rolloutlab.lb;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * How long the relay waits for a backend's first response byte before it fails over. Fixed when the operator sets it;
 * otherwise derived from what was observed: four times the slowest of the last 256 first bytes, at least 2 s and at
 * most the backend timeout. Until 16 first bytes were seen there is no basis to cut a slow generation short, so the
 * backend timeout applies; a backend that hangs is still dropped as soon as its health probe fails. Timeouts on two
 * different backends in a row double the limit (up to the cap) for the next 256 first bytes, as TCP backs off its
 * retransmission timer: a fleet that got busier than anything observed (non-streamed answers under a new wave of load)
 * would otherwise have every request cut at the old limit and sent elsewhere to queue again, which collapsed
 * throughput. Timeouts on one backend alone say that backend is failing, not that the fleet is slow: they leave the
 * limit alone, and {@link Health#firstByteTimedOut} ejects that backend.
 */
final class FirstByteTimeout {
    private static final int WINDOW = 256, MIN_SAMPLES = 16;
    private static final long FLOOR_NS = Duration.ofSeconds(2).toNanos();

    private final long fixedNs;
    private final long capNs;
    private final AtomicLongArray recent = new AtomicLongArray(WINDOW);
    private final AtomicInteger seen = new AtomicInteger();
    /** The backed-off limit, and the observation count until which it holds. */
    private volatile long backoffNs, backoffUntil;

    FirstByteTimeout(Duration fixed, Duration cap) {
        this.fixedNs = fixed == null ? -1 : fixed.toNanos();
        this.capNs = cap.toNanos();
    }

    void observe(long firstByteNs) {
        if (fixedNs < 0) recent.set(Math.floorMod(seen.getAndIncrement(), WINDOW), firstByteNs);
    }

    /** The backend whose first byte last timed out. */
    private volatile Object lastTimedOut;

    /** A first byte from {@code backend} did not come within {@link #nanos()}. */
    void timedOut(Object backend) {
        if (fixedNs >= 0) return;
        Object previous = lastTimedOut;
        lastTimedOut = backend;
        if (previous == null || previous == backend) return;
        backoffNs = Math.min(capNs, 2 * nanos());
        backoffUntil = seen.get() + WINDOW;
    }

    long nanos() {
        if (fixedNs >= 0) return fixedNs;
        int seenNow = seen.get(), n = Math.min(seenNow, WINDOW);
        if (n < MIN_SAMPLES) return capNs;
        long max = 0;
        for (int i = 0; i < n; i++) max = Math.max(max, recent.get(i));
        long backoff = seenNow < backoffUntil ? backoffNs : 0;
        return Math.min(capNs, Math.max(backoff, Math.max(FLOOR_NS, 4 * max)));
    }

    String describe() {
        return fixedNs >= 0
                ? Duration.ofNanos(fixedNs).toMillis() + " ms"
                : "auto (now " + Duration.ofNanos(nanos()).toMillis() + " ms)";
    }
}
