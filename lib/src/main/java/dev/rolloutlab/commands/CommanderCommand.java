package dev.rolloutlab.commands;

import dev.rolloutlab.cluster.Commander;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code commander}: {@code pod_commander}'s flags and flow, plus the agent token and clean failure. */
@Command(
        name = "commander",
        mixinStandardHelpOptions = true,
        description = "Start local and remote (agent) servers, wait until ready, publish the registry (GET /backends).")
public final class CommanderCommand implements Callable<Integer> {
    @Option(
            names = "--backend-kind",
            defaultValue = "sglang-jax-multi-openai",
            description = "sglang-jax-multi-openai, rollout-lab-serve or mock-openai. Default: ${DEFAULT-VALUE}")
    String backendKind;

    @Option(names = "--model", defaultValue = "Qwen/Qwen3-1.7B", description = "Default: ${DEFAULT-VALUE}")
    String model;

    @Option(names = "--num-servers-per-worker", defaultValue = "4")
    int numServersPerWorker;

    @Option(names = "--base-port", defaultValue = "31000")
    int basePort;

    @Option(
            names = "--remote-base-port",
            description = "Base port on the agents' hosts. Default: --base-port (set it when agents share this host).")
    Integer remoteBasePort;

    @Option(
            names = "--bind-host",
            defaultValue = "127.0.0.1",
            description = "Default: ${DEFAULT-VALUE} (pod_commander binds 0.0.0.0)")
    String bindHost;

    @Option(names = "--load-format", defaultValue = "auto")
    String loadFormat;

    @Option(names = "--context-length", defaultValue = "128")
    int contextLength;

    @Option(names = "--max-total-tokens", defaultValue = "128")
    int maxTotalTokens;

    @Option(names = "--max-prefill-tokens", defaultValue = "128")
    int maxPrefillTokens;

    @Option(names = "--enable-weight-reload")
    boolean enableWeightReload;

    @Option(names = "--python", defaultValue = "python")
    String python;

    @Option(names = "--remote-agents", defaultValue = "", description = "Comma-separated agent base URLs.")
    String remoteAgents;

    @Option(names = "--agent-token-file", description = "Token the agents expect (and registrations must carry).")
    Path agentTokenFile;

    @Option(
            names = "--registry-token-file",
            description = "Token registry writes (/register, /deregister) must carry. Default: the agent token; "
                    + "with neither, writes are refused.")
    Path registryTokenFile;

    @Option(
            names = "--server-api-key-file",
            description = "API key the local servers require; needed when --bind-host is beyond loopback.")
    Path serverApiKeyFile;

    @Option(names = "--startup-timeout-sec", defaultValue = "1800")
    int startupTimeoutSec;

    @Option(names = "--registry-host", defaultValue = "127.0.0.1", description = "Default: ${DEFAULT-VALUE}")
    String registryHost;

    @Option(names = "--registry-port", defaultValue = "9100")
    int registryPort;

    @Option(
            names = "--advertise-host",
            defaultValue = "",
            description = "Address published for local backends. Default: the bind host.")
    String advertiseHost;

    @Option(names = "--workdir", defaultValue = "", description = "Default: the current directory.")
    String workdir;

    @Option(names = "--quiet")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        List<String> agents = remoteAgents.isBlank()
                ? List.of()
                : Arrays.stream(remoteAgents.split(","))
                        .map(String::trim)
                        .filter(s -> !s.isEmpty())
                        .toList();
        String token = Cli.secret(null, agentTokenFile, "--agent-token-file");
        if (!agents.isEmpty() && token == null)
            throw new Cli.UserError(
                    "--remote-agents needs --agent-token-file (agents refuse calls without their token)");
        Path wd = workdir.isEmpty() ? Path.of("").toAbsolutePath() : Path.of(workdir);
        Commander c;
        try {
            c = new Commander(new Commander.Options(
                    backendKind,
                    model,
                    numServersPerWorker,
                    basePort,
                    bindHost,
                    loadFormat,
                    contextLength,
                    maxTotalTokens,
                    maxPrefillTokens,
                    enableWeightReload,
                    python,
                    agents,
                    Duration.ofSeconds(startupTimeoutSec),
                    registryHost,
                    registryPort,
                    advertiseHost,
                    wd,
                    token,
                    remoteBasePort != null ? remoteBasePort : basePort,
                    Cli.secret(null, registryTokenFile, "--registry-token-file"),
                    Cli.secret(null, serverApiKeyFile, "--server-api-key-file")));
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage());
        }
        c.start(); // on failure everything started is stopped before this throws
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            c.stop();
            stopped.countDown();
        }));
        System.out.println("READY pod_commander model=" + model + " advertise_host="
                + (advertiseHost.isEmpty() ? bindHost : advertiseHost) + " backends="
                + c.registry().backendList() + " registry=" + c.registryUrl());
        System.out.flush();
        stopped.await();
        return 0;
    }
}
