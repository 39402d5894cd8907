package dev.rolloutlab.commands;

import dev.rolloutlab.bench.Fanout;
import dev.rolloutlab.engine.EngineOptions;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.server.Limits;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.sim.Profile;
import dev.rolloutlab.sim.SimWeights;
import dev.rolloutlab.sim.TimingModel;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.HostPort;
import dev.rolloutlab.util.Json;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code serve}: N OpenAI-compatible ports in one process, with optional weight admin and
 * {@code run_multi_openai_servers}' validation.
 */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = "Serve the reference engine on N OpenAI-compatible ports in one process.")
public final class ServeCommand implements Callable<Integer> {
    @Mixin
    ModelChoice model;

    @Spec
    CommandSpec spec;

    @Option(names = "--num-servers", defaultValue = "4", description = "Number of ports. Default: ${DEFAULT-VALUE}")
    int numServers;

    @Option(
            names = "--base-port",
            defaultValue = "31000",
            description = "Ports are base..base+N-1; 0 picks free ports. Default: ${DEFAULT-VALUE}")
    int basePort;

    @Option(
            names = "--ports",
            split = ",",
            description = "Explicit ports (overrides --base-port); the count must equal --num-servers.")
    List<Integer> ports;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Bind address. Default: ${DEFAULT-VALUE}")
    String host;

    @Option(
            names = {"--engine-sharing", "--engines"},
            defaultValue = "per-port",
            description = "per-port (one engine per port, as sglang-jax's multi-port server runs) or shared (one "
                    + "engine behind every port). Default: ${DEFAULT-VALUE}")
    String engines;

    @Option(names = "--served-model-name", description = "Model id in /v1/models. Default: the model folder's name.")
    String servedModelName;

    @Option(
            names = "--backend-id-base",
            defaultValue = "0",
            description = "X-Backend-Id of the first port; port i gets base+i. Default: ${DEFAULT-VALUE}")
    int backendIdBase;

    @Option(
            names = "--api-key",
            description = "Require Authorization: Bearer KEY on every path but /health (visible in ps: prefer "
                    + "--api-key-file).")
    String apiKey;

    @Option(names = "--api-key-file", description = "File holding the API key (keeps it out of ps).")
    Path apiKeyFile;

    @Option(
            names = "--max-connections",
            defaultValue = "2048",
            description = "Connections each port holds open; past it, new ones wait in the backlog. Default: "
                    + "${DEFAULT-VALUE}")
    int maxConnections;

    @Option(
            names = "--engine-stall-sec",
            defaultValue = "20",
            description = "An engine with waiting work and no step for this long makes /health answer 503. Default: "
                    + "${DEFAULT-VALUE}")
    double engineStallSec;

    @Option(names = "--admin-token", description = "Token for the /admin/* weight endpoints.")
    String adminToken;

    @Option(names = "--admin-token-file", description = "File holding the admin token (keeps it out of ps).")
    Path adminTokenFile;

    @Option(names = "--enable-weight-reload", description = "Expose /admin/* weight endpoints (needs an admin token).")
    boolean enableWeightReload;

    @Option(
            names = "--trace",
            paramLabel = "FILE",
            description = "Append every request's spans (parse, queue, prefill, decode, serialise), each engine step "
                    + "and each weight change to FILE as JSON lines, for report's trace.json. Off by default; its "
                    + "cost is in docs/benchmarks.md.")
    Path trace;

    @Option(
            names = "--public-metrics",
            description = "Serve /metrics without auth even when --api-key or an admin token is set (by default it "
                    + "needs either, like the admin endpoints).")
    boolean publicMetrics;

    @Option(
            names = "--idle-timeout-sec",
            defaultValue = "60",
            description = "Close kept-alive connections idle this long. Default: ${DEFAULT-VALUE}")
    int idleTimeoutSec;

    @Option(
            names = "--validate",
            description = "Wait for every port, send one chat to each at once, print READY/RESP/DONE; exit 0 only "
                    + "if all answer 200.")
    boolean validate;

    @Option(names = "--keep-running", description = "Keep serving after --validate until Ctrl-C.")
    boolean keepRunning;

    @Option(names = "--prompt", defaultValue = "1+1=?", description = "Validation prompt. Default: ${DEFAULT-VALUE}")
    String prompt;

    @Option(
            names = "--max-new-tokens",
            defaultValue = "1",
            description = "Validation max_tokens. Default: ${DEFAULT-VALUE}")
    int maxNewTokens;

    @Option(
            names = {"--startup-timeout-sec", "--startup-timeout"},
            defaultValue = "900",
            description = "Seconds to wait for ports in --validate. Default: ${DEFAULT-VALUE}")
    int startupTimeout;

    @Option(
            names = {"--request-timeout-sec", "--request-timeout"},
            defaultValue = "120",
            description = "Seconds per validation request. Default: ${DEFAULT-VALUE}")
    int requestTimeout;

    @Option(
            names = "--weights-version",
            defaultValue = "0",
            description = "Version number of the weights loaded at start (keeps a trainer's numbering across "
                    + "restarts). Default: ${DEFAULT-VALUE}")
    long weightsVersion;

    @Option(
            names = "--max-request-bytes",
            defaultValue = "4194304",
            description = "Largest completion request body; larger ones get 413. Default: ${DEFAULT-VALUE}")
    long maxRequestBytes;

    @Option(
            names = "--max-update-bytes",
            defaultValue = "2147483648",
            description = "Largest body pushed to /admin/update_weights. Default: ${DEFAULT-VALUE}")
    long maxUpdateBytes;

    @Option(
            names = "--reload-timeout-sec",
            defaultValue = "120",
            description = "A weight change still running after this is abandoned; the old weights keep serving. "
                    + "Default: ${DEFAULT-VALUE}")
    double reloadTimeoutSec;

    @Option(
            names = "--engine",
            defaultValue = "real",
            description = "real (the transformer) or sim (steps take the time of "
                    + "--sim-profile; tokens are random, every request runs to max_tokens). Default: ${DEFAULT-VALUE}")
    String engine;

    @Option(
            names = "--sim-profile",
            defaultValue = "rollout-lab-small-2core",
            description = "Timing model for --engine sim: a shipped "
                    + "profile or a file from sim calibrate. Default: ${DEFAULT-VALUE}")
    String simProfile;

    @Option(
            names = "--zero-compute-twins",
            description = "Also serve a zero-compute twin of each port, on free ports: the same HTTP stack, model "
                    + "name and limits on a clock engine whose steps take no time, so the path around the engine "
                    + "can be measured in this very JVM (compare's zero-compute control). Listed in --ready-file "
                    + "as twin_urls.")
    boolean zeroComputeTwins;

    @Option(
            names = "--prefix-cache-mb",
            description = "Each engine's prefix cache (keys and values of prompts and answers already computed, reused "
                    + "by requests that share a prefix, dropped on every weights update), in MiB; 0 turns it off. "
                    + "Default: an eighth of the heap, at most 512.")
    Long prefixCacheMb;

    @Option(
            names = "--ready-file",
            description =
                    "Write {\"ports\":[...],\"urls\":[...],\"pid\":...} here once listening (for scripts and tests).")
    Path readyFile;

    @Override
    public Integer call() throws Exception {
        Cli.warnFormer(spec, "--engines", "--engine-sharing");
        Cli.warnFormer(spec, "--startup-timeout", "--startup-timeout-sec");
        Cli.warnFormer(spec, "--request-timeout", "--request-timeout-sec");
        ServerGroup.TestDelays testDelays = ServerGroup.TestDelays.fromEnvironment();
        List<Integer> chosen;
        ServerGroup.Engines mode;
        try {
            chosen = ServerGroup.ports(numServers, basePort, ports);
            mode = ServerGroup.Engines.parse(engines);
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage());
        }
        apiKey = Cli.apiKey(apiKey, apiKeyFile);
        String token = Cli.secret(adminToken, adminTokenFile, "--admin-token-file");
        if (enableWeightReload && (token == null || token.isBlank())) {
            throw new Cli.UserError("--enable-weight-reload needs --admin-token T or --admin-token-file F");
        }
        if (!engine.equals("real") && !engine.equals("sim"))
            throw new Cli.UserError("--engine " + engine + ": expected real or sim");
        TimingModel timing;
        try {
            timing = engine.equals("sim") ? Profile.load(simProfile).model() : null;
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage());
        }
        if (prefixCacheMb != null && (prefixCacheMb < 0 || prefixCacheMb > 1 << 20))
            throw new Cli.UserError("--prefix-cache-mb " + prefixCacheMb + ": expected 0 (off) to 1048576 MiB");
        Path dir = model.resolve("tiny");
        String name =
                servedModelName != null ? servedModelName : dir.getFileName().toString();
        if (!HostPort.isLoopback(host)) {
            System.err.println("warning: listening on " + host + ": every host that can reach it can use these ports"
                    + (apiKey == null ? " (no --api-key set)" : ""));
        }
        long t0 = System.nanoTime();
        ServerGroup.Builder spec = ServerGroup.Spec.builder(dir)
                .host(host)
                .engines(mode)
                .servedModelName(name)
                .apiKey(apiKey)
                .idleTimeout(Duration.ofSeconds(idleTimeoutSec))
                .limits(limits())
                .prefixCache(prefixCacheMb == null ? EngineOptions.AUTO_PREFIX_CACHE : prefixCacheMb << 20)
                .publicMetrics(publicMetrics)
                .trace(trace)
                .testDelays(testDelays);
        ServerGroup group = ServerGroup.start(spec.ports(chosen)
                .backendIdBase(backendIdBase)
                .weightAdmin(enableWeightReload ? token : null)
                .initialVersion(weightsVersion)
                .simulated(timing, timing != null ? SimWeights.ROUTES : null)
                .build());
        // the twins take no weight updates: they have no weights to keep fresh
        ServerGroup twins = zeroComputeTwins
                ? ServerGroup.start(spec.ports(Collections.nCopies(chosen.size(), 0))
                        .backendIdBase(backendIdBase + chosen.size())
                        .weightAdmin(null)
                        .trace(null) // one writer per file: the twins' spans would interleave with the real ones
                        .simulated(Profile.load(Profile.ZERO_COMPUTE).model(), null)
                        .build())
                : null;
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            if (twins != null) twins.close();
            group.close();
            System.err.println("STOPPED: servers=" + numServers);
            stopped.countDown();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        System.err.printf("started %d port(s) of %s in %.1f s%n", numServers, name, (System.nanoTime() - t0) / 1e9);
        if (readyFile != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("ports", group.ports());
            r.put("urls", group.urls());
            if (twins != null) r.put("twin_urls", twins.urls());
            r.put("pid", ProcessHandle.current().pid());
            r.put("model", name);
            Json.writeFile(readyFile, r);
        }
        if (!validate) {
            System.out.println("READY: servers=" + numServers + " ports=" + group.ports());
            System.out.flush();
            stopped.await();
            return 0;
        }
        int code;
        try {
            code = validate(group, name);
        } catch (RuntimeException e) {
            Runtime.getRuntime().removeShutdownHook(hook);
            if (twins != null) twins.close();
            group.close();
            throw e;
        }
        if (keepRunning) {
            System.out.println("KEEP_RUNNING: leaving servers alive.");
            System.out.flush();
            stopped.await();
        } else {
            Runtime.getRuntime().removeShutdownHook(hook);
            if (twins != null) twins.close();
            group.close();
        }
        return code;
    }

    private Limits limits() {
        try {
            if (!(engineStallSec > 0 && engineStallSec <= 3600))
                throw new Cli.UserError("--engine-stall-sec must be in (0, 3600], got " + engineStallSec);
            return new Limits(
                    maxRequestBytes,
                    maxUpdateBytes,
                    Duration.ofMillis((long) (reloadTimeoutSec * 1000)),
                    maxConnections,
                    Duration.ofMillis((long) (engineStallSec * 1000)));
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage());
        }
    }

    private int validate(ServerGroup group, String name) throws InterruptedException {
        List<OpenAiClient> clients = group.urls().stream()
                .map(u -> new OpenAiClient(OpenAiClient.http(1, Duration.ofSeconds(5)), u, apiKey, true))
                .toList();
        for (int i = 0; i < clients.size(); i++) {
            OpenAiClient c = clients.get(i);
            if (!Await.until(() -> c.get("/v1/models").status() == 200, Duration.ofSeconds(startupTimeout))) {
                throw new IllegalStateException(
                        "Server on port " + group.ports().get(i) + " did not become ready.");
            }
        }
        System.out.println("READY: servers=" + clients.size() + " ports=" + group.ports());
        long w0 = System.nanoTime();
        List<Fanout.Reply> replies = Fanout.send(
                group.urls(),
                CompletionRequest.chat(name, prompt, maxNewTokens, 0.0),
                apiKey,
                group.urls().size(),
                Duration.ofSeconds(requestTimeout),
                r -> {
                    System.out.println(String.format(
                                    Locale.ROOT,
                                    "RESP: port=%s status=%d sec=%.3f",
                                    r.backend().substring(r.backend().lastIndexOf(':') + 1),
                                    r.status(),
                                    r.seconds())
                            + (r.error() != null ? " error=" + r.error() : ""));
                    System.out.flush();
                });
        double max = replies.stream().mapToDouble(Fanout.Reply::seconds).max().orElse(0);
        System.out.printf(
                Locale.ROOT,
                "DONE: servers=%d wall_sec=%.3f max_req_sec=%.3f%n",
                replies.size(),
                (System.nanoTime() - w0) / 1e9,
                max);
        System.out.flush();
        return replies.stream().allMatch(r -> r.status() == 200) ? 0 : 1;
    }
}
