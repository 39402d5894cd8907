package dev.rolloutlab.commands;

import dev.rolloutlab.lb.Backend;
import dev.rolloutlab.lb.LbOptions;
import dev.rolloutlab.lb.LoadBalancer;
import dev.rolloutlab.lb.Policy;
import dev.rolloutlab.util.HostPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lb}: the OpenAI load balancer in front of a backend list or a registry. */
@Command(
        name = "lb",
        mixinStandardHelpOptions = true,
        description = "OpenAI load balancer: pooled, load-aware, failover before the first byte, SSE passthrough.")
public final class LbCommand implements Callable<Integer> {
    @Option(names = "--listen-host", defaultValue = "127.0.0.1", description = "Default: ${DEFAULT-VALUE}")
    String listenHost;

    @Option(names = "--listen-port", required = true, description = "Port to listen on (0 = any free port).")
    int listenPort;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    /** A fixed list, or a registry followed as it changes; exactly one. */
    static final class Source {
        @Option(names = "--backends", split = ",", description = "Backends as host:port or URLs.")
        List<String> backends;

        @Option(names = "--registry-url", description = "Follow a commander registry instead of a fixed list.")
        String registryUrl;
    }

    @Option(
            names = "--registry-token-file",
            description = "Registry token: with it the lb also learns the API keys backends require.")
    Path registryTokenFile;

    @Option(
            names = "--policy",
            defaultValue = "round-robin",
            description = "round-robin, least-load (among equally loaded ports, those of the least loaded host first: "
                    + "a host's ports may share one engine), p2c, random, "
                    + "cache-aware (where a prompt's prefix went before, "
                    + "unless loads drift apart) or sticky (X-Session-Id, else X-Group-Id, by consistent hashing with "
                    + "bounded loads). Default: ${DEFAULT-VALUE}")
    String policy;

    @Option(
            names = "--api-key",
            description = "Clients must send Authorization: Bearer KEY (passed through to backends; visible in ps: "
                    + "prefer --api-key-file).")
    String apiKey;

    @Option(names = "--api-key-file", description = "File holding the API key (keeps it out of ps).")
    Path apiKeyFile;

    @Option(names = "--admin-token", description = "Token for /admin/* (drain, undrain, backends).")
    String adminToken;

    @Option(names = "--admin-token-file", description = "File holding the admin token.")
    Path adminTokenFile;

    @Option(
            names = "--trace",
            paramLabel = "FILE",
            description = "Append each request's spans (pick, every attempt with its connect, relay) to FILE as JSON "
                    + "lines, for report's trace.json; a request's W3C traceparent goes on unchanged, so a failover "
                    + "keeps it. Off by default.")
    Path trace;

    @Option(
            names = "--public-metrics",
            description = "Serve /metrics without auth even when --api-key or an admin token is set.")
    boolean publicMetrics;

    @Option(
            names = "--backend-timeout-sec",
            defaultValue = "60",
            description = "Longest wait for any read from a backend (a stream's gap between events). Default: "
                    + "${DEFAULT-VALUE}")
    double backendTimeoutSec;

    @Option(
            names = "--first-byte-timeout-sec",
            description = "Fail over when a backend sends no response byte within this. Default: auto "
                    + "(4x the slowest first byte of the last 256, 2 s at least; the backend timeout "
                    + "until 16 were seen).")
    Double firstByteTimeoutSec;

    @Option(
            names = "--health-interval-sec",
            defaultValue = "1",
            description = "Active health checks. Default: ${DEFAULT-VALUE}")
    double healthIntervalSec;

    @Option(
            names = "--health-timeout-sec",
            defaultValue = "2",
            description = "A probe (and a connect) slower than this is late; "
                    + "--breaker-failures late probes in a row take a backend out (a refused or "
                    + "failed probe at once). Default: ${DEFAULT-VALUE}")
    double healthTimeoutSec;

    @Option(
            names = "--breaker-failures",
            defaultValue = "3",
            description = "Consecutive failures that open a backend's breaker, "
                    + "and consecutive late health probes that take it out. Default: ${DEFAULT-VALUE}")
    int breakerFailures;

    @Option(
            names = "--breaker-cooldown-sec",
            defaultValue = "5",
            description = "How long an open breaker keeps a backend out. Default: ${DEFAULT-VALUE}")
    double breakerCooldownSec;

    @Option(
            names = "--max-connections",
            defaultValue = "2048",
            description = "Client connections served at once; more get a quick 503 "
                    + "(32 more are kept for /health, /metrics and /admin). Default: ${DEFAULT-VALUE}")
    int maxConnections;

    @Option(
            names = "--max-connections-per-client",
            defaultValue = "1024",
            description = "Connections one client address may hold. Default: ${DEFAULT-VALUE}")
    int maxConnectionsPerClient;

    @Option(
            names = "--header-timeout-sec",
            defaultValue = "10",
            description = "A request head must arrive whole within this of its first byte "
                    + "(and a new connection's first request must start within it). Default: ${DEFAULT-VALUE}")
    double headerTimeoutSec;

    @Option(
            names = "--min-body-rate",
            defaultValue = "16384",
            description = "Slowest request body accepted, bytes/s, after one header timeout of grace. Default: "
                    + "${DEFAULT-VALUE}")
    long minBodyRate;

    @Option(
            names = "--max-body-memory-mb",
            defaultValue = "512",
            description = "Memory for request bodies in flight; past it, 503. Default: ${DEFAULT-VALUE}")
    long maxBodyMemoryMb;

    @Option(
            names = "--version-consistent",
            description = "Route by weights version (X-Weights-Version): backends behind the newest "
                    + "version are out of rotation until they catch up, an answer spanning two "
                    + "versions is sent again, and all requests "
                    + "with one X-Group-Id are sampled under one version (409 "
                    + "group_version_unavailable when none serves it any more).")
    boolean versionConsistent;

    @Option(names = "--quiet", description = "Print only the READY line.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        apiKey = Cli.apiKey(apiKey, apiKeyFile);
        String token = Cli.secret(adminToken, adminTokenFile, "--admin-token-file");
        String registryToken = Cli.secret(null, registryTokenFile, "--registry-token-file");
        if (!HostPort.isLoopback(listenHost) && !quiet) {
            System.err.println("warning: listening on " + listenHost + (apiKey == null ? " without --api-key" : ""));
        }
        LbOptions options;
        try {
            options = LbOptions.builder()
                    .listen(listenHost, listenPort)
                    .backends(source.backends)
                    .registry(source.registryUrl, registryToken)
                    .policy(Policy.parse(policy))
                    .apiKey(apiKey)
                    .adminToken(token)
                    .publicMetrics(publicMetrics)
                    .trace(trace)
                    .backendTimeout(seconds(backendTimeoutSec, "--backend-timeout-sec"))
                    .firstByteTimeout(
                            firstByteTimeoutSec == null
                                    ? null
                                    : seconds(firstByteTimeoutSec, "--first-byte-timeout-sec"))
                    .healthInterval(seconds(healthIntervalSec, "--health-interval-sec"))
                    .healthTimeout(seconds(healthTimeoutSec, "--health-timeout-sec"))
                    .breaker(breakerFailures, seconds(breakerCooldownSec, "--breaker-cooldown-sec"))
                    .maxConnections(maxConnections)
                    .versionConsistent(versionConsistent)
                    .clients(new LbOptions.ClientLimits(
                            maxConnectionsPerClient,
                            seconds(headerTimeoutSec, "--header-timeout-sec"),
                            minBodyRate,
                            maxBodyMemoryMb << 20))
                    .build();
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage().startsWith("--") ? e.getMessage() : "--backends: " + e.getMessage());
        }
        LoadBalancer lb = new LoadBalancer(options);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            lb.close();
            stopped.countDown();
        }));
        System.out.println("READY openai_load_balancer url=" + lb.url() + " backends="
                + lb.backends().stream().map(Backend::label).toList());
        System.out.flush();
        stopped.await();
        return 0;
    }

    private static Duration seconds(double s, String flag) {
        if (!(s > 0) || s > 86_400)
            throw new IllegalArgumentException(flag + " must be in (0, 86400] seconds, got " + s);
        return Duration.ofMillis(Math.max(1, (long) (s * 1000)));
    }
}
