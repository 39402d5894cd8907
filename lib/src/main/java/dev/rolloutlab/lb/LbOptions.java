package dev.rolloutlab.lb;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How a {@link LoadBalancer} runs. Built with {@link #builder()}; every field has the default {@code lb} uses. A null
 * {@code registryUrl} means {@code backends} is the fixed set; a null {@code firstByteTimeout} means "auto" (see
 * {@link FirstByteTimeout}).
 */
public record LbOptions(
        String listenHost,
        int listenPort,
        List<String> backends,
        String registryUrl,
        String registryToken,
        Policy policy,
        String apiKey,
        String adminToken,
        boolean publicMetrics,
        Duration backendTimeout,
        Duration firstByteTimeout,
        Duration healthInterval,
        Duration healthTimeout,
        int breakerFailures,
        Duration breakerCooldown,
        int maxConnections,
        boolean versionConsistent,
        ClientLimits clients,
        Path trace) {

    /**
     * What one client may hold: connections from one address, the time from a request's first byte to the end of its
     * head, the slowest body rate accepted once that grace has passed, and the memory for bodies in flight (all
     * clients).
     */
    public record ClientLimits(
            int maxConnectionsPerClient, Duration headerTimeout, long minBodyBytesPerSec, long maxBodyMemory) {
        public static final ClientLimits DEFAULT = new ClientLimits(1024, Duration.ofSeconds(10), 16 << 10, 512L << 20);

        public ClientLimits {
            if (maxConnectionsPerClient < 1)
                throw new IllegalArgumentException(
                        "--max-connections-per-client must be at least 1, got " + maxConnectionsPerClient);
            if (headerTimeout.isNegative() || headerTimeout.isZero())
                throw new IllegalArgumentException("--header-timeout-sec must be positive");
            if (minBodyBytesPerSec < 1) throw new IllegalArgumentException("--min-body-rate must be at least 1 byte/s");
            if (maxBodyMemory < (16L << 20))
                throw new IllegalArgumentException(
                        "--max-body-memory-mb must be at least 16, got " + (maxBodyMemory >> 20));
        }
    }

    long maxBodyMemory() {
        return clients.maxBodyMemory();
    }

    public LbOptions {
        if (registryUrl == null && (backends == null || backends.isEmpty()))
            throw new IllegalArgumentException("backends must not be empty");
        if (maxConnections < 1)
            throw new IllegalArgumentException("--max-connections must be at least 1, got " + maxConnections);
        if (breakerFailures < 1)
            throw new IllegalArgumentException("--breaker-failures must be at least 1, got " + breakerFailures);
        for (Duration d : new Duration[] {backendTimeout, healthInterval, healthTimeout, breakerCooldown}) {
            if (d.isNegative() || d.isZero())
                throw new IllegalArgumentException("timeouts and intervals must be positive, got " + d);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Defaults: loopback, any free port, round robin, 60 s backend timeout, auto first-byte timeout, 2,048 connections.
     */
    public static final class Builder {
        private String listenHost = "127.0.0.1";
        private int listenPort;
        private List<String> backends;
        private String registryUrl;
        private String registryToken;
        private Policy policy;
        private String apiKey;
        private String adminToken;
        private boolean publicMetrics;
        private Duration backendTimeout = Duration.ofSeconds(60);
        private Duration firstByteTimeout;
        private Duration healthInterval = Duration.ofSeconds(1);
        private Duration healthTimeout = Duration.ofSeconds(2);
        private int breakerFailures = 3;
        private Duration breakerCooldown = Duration.ofSeconds(5);
        private int maxConnections = 2048;
        private boolean versionConsistent;
        private ClientLimits clients = ClientLimits.DEFAULT;
        private Path trace;

        public Builder listen(String host, int port) {
            this.listenHost = host;
            this.listenPort = port;
            return this;
        }

        public Builder backends(List<String> b) {
            this.backends = b;
            return this;
        }

        /**
         * Follow a registry instead of a fixed list; with its token the balancer also learns the backends' API keys.
         */
        public Builder registry(String url, String token) {
            this.registryUrl = url;
            this.registryToken = token;
            return this;
        }

        public Builder policy(Policy p) {
            this.policy = p;
            return this;
        }

        public Builder apiKey(String k) {
            this.apiKey = k;
            return this;
        }

        public Builder adminToken(String t) {
            this.adminToken = t;
            return this;
        }

        public Builder publicMetrics(boolean b) {
            this.publicMetrics = b;
            return this;
        }

        public Builder backendTimeout(Duration d) {
            this.backendTimeout = d;
            return this;
        }

        public Builder firstByteTimeout(Duration d) {
            this.firstByteTimeout = d;
            return this;
        }

        public Builder healthInterval(Duration d) {
            this.healthInterval = d;
            return this;
        }

        public Builder healthTimeout(Duration d) {
            this.healthTimeout = d;
            return this;
        }

        public Builder breaker(int failures, Duration cooldown) {
            this.breakerFailures = failures;
            this.breakerCooldown = cooldown;
            return this;
        }

        public Builder maxConnections(int n) {
            this.maxConnections = n;
            return this;
        }

        /** Route by weights version (see {@link Versions}). */
        public Builder versionConsistent(boolean on) {
            this.versionConsistent = on;
            return this;
        }

        /** Per-client connection cap, header deadline, body rate floor and body memory budget. */
        public Builder clients(ClientLimits c) {
            this.clients = c;
            return this;
        }

        /** Keep each request's spans (pick, attempts, connect, relay) in {@code file} as JSON lines; null: none. */
        public Builder trace(Path file) {
            this.trace = file;
            return this;
        }

        public LbOptions build() {
            return new LbOptions(
                    listenHost,
                    listenPort,
                    backends,
                    registryUrl,
                    registryToken,
                    policy == null ? new RoundRobin() : policy,
                    apiKey == null || apiKey.isEmpty() ? null : apiKey,
                    adminToken == null || adminToken.isEmpty() ? null : adminToken,
                    publicMetrics,
                    backendTimeout,
                    firstByteTimeout,
                    healthInterval,
                    healthTimeout,
                    breakerFailures,
                    breakerCooldown,
                    maxConnections,
                    versionConsistent,
                    clients,
                    trace);
        }
    }
}
