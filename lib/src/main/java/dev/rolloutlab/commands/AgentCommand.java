package dev.rolloutlab.commands;

import dev.rolloutlab.cluster.Agent;
import dev.rolloutlab.cluster.LaunchTemplate;
import dev.rolloutlab.cluster.RegistryServer;
import dev.rolloutlab.util.HostPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code agent}: the token-protected worker agent a commander drives. */
@Command(
        name = "agent",
        mixinStandardHelpOptions = true,
        description = "Worker agent: starts and stops templated servers for a commander.")
public final class AgentCommand implements Callable<Integer> {
    @Option(
            names = "--host",
            defaultValue = "127.0.0.1",
            description = "Bind address of the agent itself (0.0.0.0 to accept a remote commander). Default: "
                    + "${DEFAULT-VALUE}")
    String host;

    @Option(names = "--port", defaultValue = "9010", description = "Default: ${DEFAULT-VALUE}")
    int port;

    @Option(names = "--workdir", description = "Where services run and log. Default: the current directory.")
    Path workdir;

    @Option(
            names = "--token-file",
            required = true,
            description = "File with the bearer token every /admin/* call (and every registration) carries.")
    Path tokenFile;

    @Option(names = "--templates", description = "YAML/JSON file with templates beyond the built-ins.")
    Path templates;

    @Option(
            names = "--server-host",
            defaultValue = "127.0.0.1",
            description = "Where started servers bind; beyond loopback needs --server-api-key-file. Default: "
                    + "${DEFAULT-VALUE}")
    String serverHost;

    @Option(
            names = "--server-api-key-file",
            description = "API key started servers require; published by the registry to token holders only.")
    Path serverApiKeyFile;

    @Option(names = "--register-url", description = "Commander registry to heartbeat this agent's backends to.")
    String registerUrl;

    @Option(
            names = "--advertise-host",
            defaultValue = "127.0.0.1",
            description = "Address the registry should publish for our backends. Default: ${DEFAULT-VALUE}")
    String advertiseHost;

    @Option(
            names = "--ttl-sec",
            defaultValue = "15",
            description =
                    "Registration TTL (at most " + (int) RegistryServer.MAX_TTL_SEC + "). Default: ${DEFAULT-VALUE}")
    int ttlSec;

    @Option(names = "--quiet", description = "Only the READY line.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        String token = Cli.secret(null, tokenFile, "--token-file");
        if (token.length() < 8)
            throw new Cli.UserError("--token-file " + tokenFile + ": the token must be at least 8 characters");
        if (ttlSec < 1 || ttlSec > RegistryServer.MAX_TTL_SEC)
            throw new Cli.UserError(
                    "--ttl-sec must be in [1, " + (int) RegistryServer.MAX_TTL_SEC + "], got " + ttlSec);
        Path wd = workdir != null ? workdir : Path.of("").toAbsolutePath();
        if (!HostPort.isLoopback(host)) {
            System.err.println("warning: agent listening on " + host
                    + ": anyone who can reach it and holds the token can start templates");
        }
        Agent agent;
        try {
            Agent.Config config = new Agent.Config(
                    token,
                    serverHost,
                    Cli.secret(null, serverApiKeyFile, "--server-api-key-file"),
                    LaunchTemplate.load(templates));
            agent = new Agent(host, port, wd, config);
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage());
        }
        if (registerUrl != null) agent.registerWith(registerUrl, advertiseHost, Duration.ofSeconds(ttlSec));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.close();
            stopped.countDown();
        }));
        System.out.println(
                "READY worker_agent url=http://" + host + ":" + agent.port() + " workdir=" + wd.toAbsolutePath());
        System.out.flush();
        stopped.await();
        return 0;
    }
}
