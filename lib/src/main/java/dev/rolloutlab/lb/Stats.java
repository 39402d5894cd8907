package dev.rolloutlab.lb;

import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters of one backend for {@code /metrics} and {@code /admin/backends}; lock-free, written on the relay's hot path.
 */
final class Stats {
    /** Upper bounds (seconds) of the latency histograms' buckets in {@code /metrics}, +Inf last. */
    static final double[] BOUNDS = {
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, Double.POSITIVE_INFINITY
    };

    final AtomicLong requests = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong retries = new AtomicLong();
    /** From sending a request to its last relayed byte. */
    final Latency duration = new Latency();
    /** From sending a request to the backend's response head: a streamed completion's first token. */
    final Latency firstByte = new Latency();
    /**
     * Why the last failed attempt on this backend failed (transport or first-byte timeout), for operators and reports.
     */
    volatile String lastError;

    /** A histogram over {@link #BOUNDS}, counted without locks or allocation. */
    static final class Latency {
        private final AtomicLongArray buckets = new AtomicLongArray(BOUNDS.length);
        private final AtomicLong sumNanos = new AtomicLong();

        void observe(long nanos) {
            double sec = nanos / 1e9;
            int i = 0;
            while (sec > BOUNDS[i]) i++; // the last bound is +Inf
            buckets.incrementAndGet(i);
            sumNanos.addAndGet(nanos);
        }

        long count() {
            long n = 0;
            for (int i = 0; i < BOUNDS.length; i++) n += buckets.get(i);
            return n;
        }

        double sumSeconds() {
            return sumNanos.get() / 1e9;
        }

        /** Each bucket's own count (not cumulative), as the Prometheus model takes them. */
        ClassicHistogramBuckets buckets() {
            long[] counts = new long[BOUNDS.length];
            for (int i = 0; i < counts.length; i++) counts[i] = buckets.get(i);
            return ClassicHistogramBuckets.of(BOUNDS, counts);
        }
    }
}
