package dev.rolloutlab.lb;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the balancer knows of one backend's health: the last probe's verdict, the passive circuit breaker, the update
 * mark (503 + Retry-After) and the load it last reported. Written by the {@link HealthChecker} and the relay; a backend
 * whose probe failed gets no new requests until a probe passes again.
 */
final class Health {
    volatile boolean up = true;
    volatile int reportedLoad = -1;
    /** This balancer's requests in flight on the backend when {@link #reportedLoad} arrived. */
    volatile int inFlightAtReport;
    /** Set when the backend answered 503 + Retry-After (a weight update); cleared by a probe that sees it serve. */
    volatile boolean updating;

    volatile long unavailableUntilNs;
    volatile long breakerOpenUntilNs;
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    /** Probes in a row that got no answer in time; only the health checker's thread writes it, one probe at a time. */
    private volatile int slowProbes;

    /**
     * Set when first bytes timed out {@code breakerFailures} times in a row: outlier ejection as Envoy does it. A
     * passing health probe does not end it (a backend can answer {@code /health} and stall every completion); its
     * cooldown does, and one more timeout then ejects it again.
     */
    volatile long ejectedUntilNs;

    private final AtomicInteger consecutiveTimeouts = new AtomicInteger();

    boolean available(long now) {
        return up && !updating && now >= breakerOpenUntilNs && now >= ejectedUntilNs;
    }

    boolean ejected(long now) {
        return now < ejectedUntilNs;
    }

    String breakerState(long now) {
        return now < ejectedUntilNs ? "ejected" : now < breakerOpenUntilNs ? "open" : "closed";
    }

    void success() {
        consecutiveFailures.set(0);
        consecutiveTimeouts.set(0);
    }

    /**
     * A first byte that did not come in time; after {@code threshold} in a row the backend is ejected for
     * {@code cooldownNs}.
     */
    void firstByteTimedOut(int threshold, long cooldownNs) {
        if (consecutiveTimeouts.incrementAndGet() >= threshold) {
            ejectedUntilNs = System.nanoTime() + cooldownNs;
            consecutiveTimeouts.set(threshold - 1); // on probation: the next timeout ejects it again
        }
    }

    /**
     * Counts a transport failure; after {@code threshold} in a row the breaker opens and the backend counts as down.
     */
    void failure(int threshold, long cooldownNs) {
        if (consecutiveFailures.incrementAndGet() >= threshold) {
            breakerOpenUntilNs = System.nanoTime() + cooldownNs;
            up = false;
        }
    }

    /** A probe's verdict: a pass closes the breaker, a failure takes the backend out until the next pass. */
    void probed(boolean ok) {
        slowProbes = 0;
        up = ok;
        if (ok) {
            consecutiveFailures.set(0);
            breakerOpenUntilNs = 0;
        }
    }

    /**
     * A probe that got no answer in time: a busy backend answers late, a hung one never; {@code threshold} in a row
     * take it out.
     */
    void probeTimedOut(int threshold) {
        if (++slowProbes >= threshold) up = false;
    }

    void markUpdating(long retryAfterNs) {
        updating = true;
        unavailableUntilNs = System.nanoTime() + retryAfterNs;
    }
}
