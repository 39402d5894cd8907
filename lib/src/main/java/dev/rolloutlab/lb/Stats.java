package dev.rolloutlab.lb;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters of one backend for {@code /metrics} and {@code /admin/backends}; lock-free, written on the relay's hot path.
 */
final class Stats {
    /** Upper bounds (seconds) of the latency histogram buckets in {@code /metrics}. */
    static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    final AtomicLong requests = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong retries = new AtomicLong();
    final AtomicLongArray buckets = new AtomicLongArray(BUCKETS.length + 1);
    final AtomicLong latencySumMicros = new AtomicLong();
    /**
     * Why the last failed attempt on this backend failed (transport or first-byte timeout), for operators and reports.
     */
    volatile String lastError;

    void observe(long nanos) {
        double sec = nanos / 1e9;
        int i = 0;
        while (i < BUCKETS.length && sec > BUCKETS[i]) i++;
        buckets.incrementAndGet(i);
        latencySumMicros.addAndGet(nanos / 1000);
    }
}
