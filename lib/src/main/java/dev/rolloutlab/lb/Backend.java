package dev.rolloutlab.lb;

import dev.rolloutlab.http1.Http1Pool;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One upstream server and what the balancer knows about it: requests in flight, the load it last reported, health,
 * the passive circuit breaker, drain state and Prometheus counters. All fields are safe to read from any thread.
 */
public final class Backend {
    /** Upper bounds (seconds) of the latency histogram buckets in {@code /metrics}. */
    static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    final String url;
    final String label;
    /** The {@code Host} header value and the idle keep-alive connections to this backend. */
    final String hostHeader;
    final Http1Pool pool;
    final AtomicInteger inFlight = new AtomicInteger();
    volatile int reportedLoad = -1;
    volatile boolean healthy = true;
    volatile boolean draining;
    /** Set when the backend answered 503 + Retry-After (a weight update); cleared by a successful probe. */
    volatile long unavailableUntilNs;
    volatile boolean updating;
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    volatile long breakerOpenUntilNs;

    final AtomicLong requests = new AtomicLong();
    final AtomicLong errors = new AtomicLong();
    final AtomicLong retries = new AtomicLong();
    final AtomicLongArray buckets = new AtomicLongArray(BUCKETS.length + 1);
    final AtomicLong latencySumMicros = new AtomicLong();

    Backend(String url, String label, String hostHeader, Http1Pool pool) {
        this.url = url;
        this.label = label;
        this.hostHeader = hostHeader;
        this.pool = pool;
    }

    public String url() {
        return url;
    }

    public String label() {
        return label;
    }

    /** Eligible for new requests: not draining, not mid-update, breaker closed. */
    boolean available(long now) {
        return !draining && !updating && now >= breakerOpenUntilNs;
    }

    String breakerState(long now) {
        return now < breakerOpenUntilNs ? "open" : "closed";
    }

    int load() {
        int r = reportedLoad;
        return inFlight.get() + Math.max(r, 0);
    }

    void success() {
        consecutiveFailures.set(0);
    }

    /** Counts a transport failure; opens the breaker for {@code cooldownNs} after {@code threshold} in a row. */
    void failure(int threshold, long cooldownNs) {
        errors.incrementAndGet();
        if (consecutiveFailures.incrementAndGet() >= threshold) {
            breakerOpenUntilNs = System.nanoTime() + cooldownNs;
            healthy = false;
        }
    }

    /** A successful active probe closes the breaker and clears the update mark. */
    void probed(boolean ok) {
        healthy = ok;
        if (ok) {
            consecutiveFailures.set(0);
            breakerOpenUntilNs = 0;
        }
    }

    void observe(long nanos) {
        double sec = nanos / 1e9;
        int i = 0;
        while (i < BUCKETS.length && sec > BUCKETS[i]) i++;
        buckets.incrementAndGet(i);
        latencySumMicros.addAndGet(nanos / 1000);
    }
}
