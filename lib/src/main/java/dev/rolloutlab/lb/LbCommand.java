package dev.rolloutlab.lb;

import dev.rolloutlab.cli.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code lb}: the OpenAI load balancer in front of a backend list or a registry. */
@Command(name = "lb", mixinStandardHelpOptions = true, description = "OpenAI load balancer: pooled, load-aware, failover before the first byte, SSE passthrough.")
public final class LbCommand implements Callable<Integer> {
    @Option(names = "--listen-host", defaultValue = "127.0.0.1", description = "Default: ${DEFAULT-VALUE}")
    String listenHost;
    @Option(names = "--listen-port", required = true, description = "Port to listen on (0 = any free port).")
    int listenPort;
    @Option(names = "--backends", split = ",", description = "Backends as host:port or URLs.")
    List<String> backends;
    @Option(names = "--registry-url", description = "Follow a commander registry instead of a fixed list.")
    String registryUrl;
    @Option(names = "--policy", defaultValue = "round-robin", description = "round-robin, least-load, p2c or random. Default: ${DEFAULT-VALUE}")
    String policy;
    @Option(names = "--api-key", description = "Clients must send Authorization: Bearer KEY (passed through to backends).")
    String apiKey;
    @Option(names = "--admin-token", description = "Token for POST /admin/drain and /admin/undrain.")
    String adminToken;
    @Option(names = "--admin-token-file", description = "File holding the admin token.")
    Path adminTokenFile;
    @Option(names = "--backend-timeout-sec", defaultValue = "60", description = "Connect and per-read timeout towards backends. Default: ${DEFAULT-VALUE}")
    double backendTimeoutSec;
    @Option(names = "--health-interval-sec", defaultValue = "1", description = "Active health checks. Default: ${DEFAULT-VALUE}")
    double healthIntervalSec;
    @Option(names = "--breaker-failures", defaultValue = "3", description = "Consecutive failures that open a backend's breaker. Default: ${DEFAULT-VALUE}")
    int breakerFailures;
    @Option(names = "--breaker-cooldown-sec", defaultValue = "5", description = "How long an open breaker keeps a backend out. Default: ${DEFAULT-VALUE}")
    double breakerCooldownSec;
    @Option(names = "--quiet", description = "Print only the READY line.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        if ((backends == null) == (registryUrl == null)) throw new Cli.UserError("give exactly one of --backends or --registry-url");
        String token = Cli.secret(adminToken, adminTokenFile, "--admin-token-file");
        Policy p;
        try {
            p = Policy.parse(policy);
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage());
        }
        if (!listenHost.equals("127.0.0.1") && !listenHost.equals("localhost") && !quiet) {
            System.err.println("warning: listening on " + listenHost + (apiKey == null ? " without --api-key" : ""));
        }
        LoadBalancer lb;
        try {
            lb = new LoadBalancer(new LoadBalancer.Options(listenHost, listenPort, backends, registryUrl, p, apiKey, token,
                    Duration.ofMillis((long) (backendTimeoutSec * 1000)), Duration.ofMillis((long) (healthIntervalSec * 1000)),
                    breakerFailures, Duration.ofMillis((long) (breakerCooldownSec * 1000))));
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage() + " (flag --backends)");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            lb.close();
            stopped.countDown();
        }));
        System.out.println("READY openai_load_balancer url=" + lb.url() + " backends=" + lb.backends().stream().map(Backend::label).toList());
        System.out.flush();
        stopped.await();
        return 0;
    }
}
