package dev.rolloutlab.lb;

import dev.rolloutlab.http1.Http1Pool;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One upstream server: where it is, its connection pool, and the state each part of the balancer owns about it:
 * {@link Health} (the health checker's), {@link Stats} (the relay's and the metrics'), and the admin's drain flag.
 */
public final class Backend {
    final String url;
    final String label;
    /** The {@code Host} header value and the idle keep-alive connections to this backend. */
    final String hostHeader;
    /** The machine it runs on, without the port: a host's ports may share one engine (sglang-jax's do). */
    final String machine;

    final Http1Pool pool;
    /**
     * An {@code Authorization} line this backend requires (from the registry), replacing the client's; null keeps the
     * client's.
     */
    final String authorizationLine;

    final Health health = new Health();
    final Stats stats = new Stats();
    final AtomicInteger inFlight = new AtomicInteger();
    volatile boolean draining;
    /** The weights version it last reported ({@link Versions}); -1 until it has. */
    volatile long version = -1;

    Backend(String url, String label, String hostHeader, Http1Pool pool, String apiKey) {
        this.url = url;
        this.label = label;
        this.hostHeader = hostHeader;
        this.machine = hostHeader.substring(0, Math.max(0, hostHeader.lastIndexOf(':')));
        this.pool = pool;
        this.authorizationLine = apiKey == null ? null : "Authorization: Bearer " + apiKey + "\r\n";
    }

    public String url() {
        return url;
    }

    public String label() {
        return label;
    }

    /** Whether its health checks pass now (a backend that is down gets no new requests). */
    public boolean isUp() {
        return health.up;
    }

    /** Eligible for new requests: up, not draining, not mid-update, breaker closed. */
    boolean available(long now) {
        return !draining && health.available(now);
    }

    /**
     * Load now: what the backend last reported, moved on by what this balancer sent or got back since. The report is up
     * to a probe interval old and already counts our requests of that moment; adding our whole count to it (as before)
     * counted them twice and steered a wave of requests by a stale number (the balancer then trailed client fanout at
     * 32 simulated hosts by half). Where the backend reports nothing, our own count alone.
     */
    int load() {
        int mine = inFlight.get(), reported = health.reportedLoad;
        return reported < 0 ? mine : Math.max(mine, reported + mine - health.inFlightAtReport);
    }
}
