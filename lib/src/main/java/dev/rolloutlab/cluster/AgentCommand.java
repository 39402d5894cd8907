package dev.rolloutlab.cluster;

import dev.rolloutlab.cli.Cli;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code agent}: the token-protected worker agent a commander drives. */
@Command(name = "agent", mixinStandardHelpOptions = true, description = "Worker agent: starts and stops templated servers for a commander.")
public final class AgentCommand implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Bind address (0.0.0.0 to accept a remote commander). Default: ${DEFAULT-VALUE}")
    String host;
    @Option(names = "--port", defaultValue = "9010", description = "Default: ${DEFAULT-VALUE}")
    int port;
    @Option(names = "--workdir", description = "Where services run and log. Default: the current directory.")
    Path workdir;
    @Option(names = "--token-file", required = true, description = "File with the bearer token every /admin/* call must carry.")
    Path tokenFile;
    @Option(names = "--templates", description = "YAML/JSON file with templates beyond the built-ins.")
    Path templates;
    @Option(names = "--register-url", description = "Commander registry to heartbeat this agent's backends to.")
    String registerUrl;
    @Option(names = "--advertise-host", defaultValue = "127.0.0.1", description = "Address the registry should publish for our backends. Default: ${DEFAULT-VALUE}")
    String advertiseHost;
    @Option(names = "--ttl-sec", defaultValue = "15", description = "Registration TTL. Default: ${DEFAULT-VALUE}")
    int ttlSec;
    @Option(names = "--quiet", description = "Only the READY line.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        String token = Cli.secret(null, tokenFile, "--token-file");
        if (token.length() < 8) throw new Cli.UserError("--token-file " + tokenFile + ": the token must be at least 8 characters");
        Path wd = workdir != null ? workdir : Path.of("").toAbsolutePath();
        if (!host.equals("127.0.0.1") && !host.equals("localhost")) {
            System.err.println("warning: agent listening on " + host + ": anyone who can reach it and holds the token can start templates");
        }
        Agent agent;
        try {
            agent = new Agent(host, port, wd, token, LaunchTemplate.load(templates));
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage());
        }
        if (registerUrl != null) agent.registerWith(registerUrl, advertiseHost, Duration.ofSeconds(ttlSec));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.close();
            stopped.countDown();
        }));
        System.out.println("READY worker_agent url=http://" + host + ":" + agent.port() + " workdir=" + wd.toAbsolutePath());
        System.out.flush();
        stopped.await();
        return 0;
    }
}
