package dev.rolloutlab.commands;

import dev.rolloutlab.cluster.Inventory;
import dev.rolloutlab.cluster.LaunchTemplate;
import dev.rolloutlab.cluster.Launcher;
import dev.rolloutlab.cluster.Ssh;
import dev.rolloutlab.util.HostPort;
import dev.rolloutlab.util.Json;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code launch up|status|logs|down}: run a template on every host of an inventory over SSH. */
@Command(
        name = "launch",
        mixinStandardHelpOptions = true,
        description = "Start, check, tail or stop servers on many hosts over SSH (detached, with pid and log files).")
public final class LaunchCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "ACTION", description = "up, status, logs or down")
    String action;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Hosts where;

    /** The hosts: an inventory file or a list, exactly one. */
    static final class Hosts {
        @Option(
                names = "--inventory",
                description = "Inventory file (YAML/JSON hosts, or gcloud tpu-vm describe --format=json).")
        Path inventory;

        @Option(names = "--hosts", split = ",", description = "Hosts as [user@]host[:port], instead of --inventory.")
        List<String> hosts;
    }

    @Option(names = "--user", description = "SSH user for --hosts and gcloud inventories.")
    String user;

    @Option(names = "--identity-file", description = "SSH key for --hosts.")
    String identityFile;

    @Option(
            names = "--template",
            defaultValue = "rollout-lab-serve",
            description = "Template name. Default: ${DEFAULT-VALUE}")
    String template;

    @Option(names = "--templates", description = "YAML/JSON file with more templates.")
    Path templates;

    @Option(names = "--set", description = "Template parameter, e.g. --set num_servers=4 (repeatable).")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(
            names = "--workdir",
            defaultValue = "~/.rollout-lab/launch",
            description = "Remote work dir for pid and log files. Default: ${DEFAULT-VALUE}")
    String workdir;

    @Option(names = "--ssh-option", description = "Extra ssh -o option, e.g. StrictHostKeyChecking=no (repeatable).")
    List<String> sshOptions = new ArrayList<>();

    @Option(
            names = "--timeout-sec",
            defaultValue = "300",
            description = "up: seconds to wait for every port. Default: ${DEFAULT-VALUE}")
    int timeoutSec;

    @Option(
            names = "--grace-sec",
            defaultValue = "10",
            description = "down: SIGTERM grace before SIGKILL. Default: ${DEFAULT-VALUE}")
    int graceSec;

    @Option(names = "--lines", defaultValue = "100", description = "logs: lines to show. Default: ${DEFAULT-VALUE}")
    int lines;

    @Option(names = "--follow", description = "logs: keep following (one host; pick it with --host).")
    boolean follow;

    @Option(names = "--host", description = "logs: only this host (by name or address).")
    String onlyHost;

    @Option(names = "--dry-run", description = "Print the exact ssh commands and exit.")
    boolean dryRun;

    @Option(names = "--json", description = "Print the host × port table as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!List.of("up", "status", "logs", "down").contains(action))
            throw new Cli.UserError("ACTION " + action + ": expected up, status, logs or down");
        Inventory inv;
        try {
            inv = where.inventory != null
                    ? Inventory.read(where.inventory)
                    : Inventory.ofHosts(where.hosts, user, identityFile);
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage());
        }
        if (onlyHost != null) {
            inv = new Inventory(inv.hosts().stream()
                    .filter(h -> h.name().equals(onlyHost) || h.address().equals(onlyHost))
                    .toList());
            if (inv.hosts().isEmpty()) throw new Cli.UserError("--host " + onlyHost + " is not in the inventory");
        }
        Map<String, LaunchTemplate> all;
        LaunchTemplate.Expanded ex;
        try {
            all = LaunchTemplate.load(templates);
            LaunchTemplate t = all.get(template);
            if (t == null)
                throw new Cli.UserError("--template " + template + ": unknown (known: " + all.keySet() + ")");
            ex = t.expand(set);
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage());
        }
        String bind = ex.params().getOrDefault("host", "127.0.0.1");
        if (!HostPort.isLoopback(bind)
                && ex.params().getOrDefault("api_key", "").isEmpty()
                && ex.params().getOrDefault("api_key_file", "").isEmpty()) {
            System.err.println("warning: --set host=" + bind
                    + " serves beyond loopback without a key; add --set api_key_file=F (a file on each host)"
                    + " or, for servers that only take a flag, --set api_key=…");
        }
        Launcher l = new Launcher(inv, ex, new Ssh(sshOptions, Duration.ofSeconds(60)), workdir);
        if (dryRun) {
            for (List<String> argv : l.dryRun(action))
                System.out.println(
                        String.join(" ", argv.stream().map(Ssh::quote).toList()));
            return 0;
        }
        if (action.equals("logs")) {
            if (follow) {
                if (inv.hosts().size() != 1) throw new Cli.UserError("--follow needs one host: add --host NAME");
                Inventory.Host h = inv.hosts().get(0);
                return new Ssh(sshOptions, Duration.ofDays(1))
                        .stream(h, l.logsCommand(h, lines, true)).waitFor();
            }
            boolean ok = true;
            for (var e : l.logs(lines).entrySet()) {
                System.out.println("==> " + e.getKey() + " <==");
                System.out.print(
                        e.getValue().ok()
                                ? e.getValue().out()
                                : "ERROR: " + e.getValue().errTail() + "\n");
                ok &= e.getValue().ok();
            }
            return ok ? 0 : 1;
        }
        System.err.printf(
                "launch %s: template %s on %d host(s), ports %s%n",
                action, template, inv.hosts().size(), ex.ports());
        List<Launcher.PortState> rows = switch (action) {
            case "up" -> l.up(Duration.ofSeconds(timeoutSec));
            case "status" -> l.status();
            default -> l.down(graceSec);
        };
        System.out.println(json ? Json.write(rows) : Launcher.table(rows));
        boolean good = switch (action) {
            case "up", "status" -> rows.stream().allMatch(r -> r.state().equals("up"));
            default -> rows.stream().noneMatch(r -> r.state().equals("failed"));
        };
        long up = rows.stream()
                .filter(r -> r.state().equals("up"))
                .map(Launcher.PortState::host)
                .distinct()
                .count();
        long failedHosts = rows.stream()
                .filter(r -> r.state().equals("failed"))
                .map(Launcher.PortState::host)
                .distinct()
                .count();
        if (action.equals("up")) System.err.printf("launch up: %d host(s) up, %d failed%n", up, failedHosts);
        return good ? 0 : 1;
    }
}
