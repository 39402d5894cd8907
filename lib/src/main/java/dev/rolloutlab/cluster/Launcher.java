package dev.rolloutlab.cluster;

import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.util.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;

/**
 * Starts, checks, tails and stops a template on every host of an inventory over SSH, in parallel. A started server is
 * detached ({@code setsid nohup}) with a pid file and a log in the host's work directory, so it outlives the SSH
 * session; failures are reported per host and never stop the other hosts.
 */
public final class Launcher {
    /** One host × port line of the table {@code launch} prints. */
    public record PortState(String host, String address, int port, String state, String detail) {}

    private final Inventory inventory;
    private final LaunchTemplate.Expanded expanded;
    private final Ssh ssh;
    private final String defaultWorkdir;

    public Launcher(Inventory inventory, LaunchTemplate.Expanded expanded, Ssh ssh, String defaultWorkdir) {
        this.inventory = inventory;
        this.expanded = expanded;
        this.ssh = ssh;
        this.defaultWorkdir = defaultWorkdir;
    }

    private String workdir(Inventory.Host h) {
        return h.workdir() != null ? h.workdir() : defaultWorkdir;
    }

    private String base(Inventory.Host h) {
        return "cd " + shellPath(workdir(h)) + " 2>/dev/null && ";
    }

    /** ~ stays unquoted so the remote shell expands it. */
    private static String shellPath(String p) {
        if (p.startsWith("~/")) return "~/" + Ssh.quote(p.substring(2));
        return Ssh.quote(p);
    }

    private String name() {
        return expanded.template();
    }

    /** The remote shell command that starts the server detached and records its pid. */
    public String upCommand(Inventory.Host h) {
        StringBuilder env = new StringBuilder();
        h.env()
                .forEach((k, v) -> env.append("export ")
                        .append(k)
                        .append('=')
                        .append(Ssh.quote(v))
                        .append("; "));
        String cmd = expanded.argv().stream().map(Ssh::quote).collect(Collectors.joining(" "));
        String wd = shellPath(workdir(h));
        String pid = name() + ".pid", log = name() + ".log";
        return "mkdir -p " + wd + " && cd " + wd + " && "
                + "if [ -f " + pid + " ] && kill -0 \"$(cat " + pid
                + ")\" 2>/dev/null; then echo \"ALREADY_RUNNING $(cat " + pid + ")\" >&2; exit 3; fi; "
                + env + "setsid nohup " + cmd + " > " + log + " 2>&1 < /dev/null & echo $! > " + pid
                + "; echo \"STARTED $!\"";
    }

    public String statusCommand(Inventory.Host h) {
        String pid = name() + ".pid";
        return base(h) + "if [ -f " + pid + " ] && kill -0 \"$(cat " + pid
                + ")\" 2>/dev/null; then echo \"RUNNING $(cat " + pid + ")\"; else echo STOPPED; fi";
    }

    public String logsCommand(Inventory.Host h, int lines, boolean follow) {
        return base(h) + "tail -n " + lines + (follow ? " -F " : " ") + name() + ".log";
    }

    public String downCommand(Inventory.Host h, int graceSec) {
        String pid = name() + ".pid";
        return base(h) + "if [ -f " + pid + " ]; then P=$(cat " + pid
                + "); kill -TERM -- -$P 2>/dev/null || kill -TERM $P 2>/dev/null; "
                + "i=0; while kill -0 $P 2>/dev/null && [ $i -lt " + (graceSec * 10)
                + " ]; do sleep 0.1; i=$((i+1)); done; "
                + "if kill -0 $P 2>/dev/null; then kill -KILL -- -$P 2>/dev/null; echo \"KILLED $P\"; else "
                + "echo \"STOPPED $P\"; fi; rm -f "
                + pid + "; "
                + "else echo NOT_RUNNING; fi";
    }

    public List<List<String>> dryRun(String action) {
        List<List<String>> out = new ArrayList<>();
        for (Inventory.Host h : inventory.hosts()) {
            out.add(ssh.argv(
                    h,
                    switch (action) {
                        case "up" -> upCommand(h);
                        case "status" -> statusCommand(h);
                        case "down" -> downCommand(h, 10);
                        default -> logsCommand(h, 100, false);
                    }));
        }
        return out;
    }

    /** Starts every host, then waits (up to {@code timeout}) until every port answers the readiness path. */
    public List<PortState> up(Duration timeout) {
        return perHost(h -> {
            Ssh.Result r = ssh.run(h, upCommand(h));
            if (!r.ok())
                return failed(
                        h,
                        r.exit() == 3
                                ? "already running: " + r.errTail()
                                : "ssh exit " + r.exit() + ": " + r.errTail());
            return awaitReady(h, timeout);
        });
    }

    public List<PortState> status() {
        return perHost(h -> {
            Ssh.Result r = ssh.run(h, statusCommand(h));
            if (!r.ok()) return failed(h, "ssh exit " + r.exit() + ": " + r.errTail());
            boolean running = r.out().startsWith("RUNNING");
            List<PortState> out = new ArrayList<>();
            for (int p : expanded.ports()) {
                boolean ready = ready(h, p);
                out.add(new PortState(
                        h.name(),
                        h.address(),
                        p,
                        ready ? "up" : running ? "starting" : "stopped",
                        r.out().strip()));
            }
            return out;
        });
    }

    public List<PortState> down(int graceSec) {
        return perHost(h -> {
            Ssh.Result r = ssh.run(h, downCommand(h, graceSec));
            if (!r.ok()) return failed(h, "ssh exit " + r.exit() + ": " + r.errTail());
            String what = r.out().strip();
            String state =
                    what.startsWith("KILLED") ? "killed" : what.startsWith("STOPPED") ? "stopped" : "not-running";
            return expanded.ports().stream()
                    .map(p -> new PortState(h.name(), h.address(), p, state, what))
                    .toList();
        });
    }

    public Map<String, Ssh.Result> logs(int lines) {
        Map<String, Ssh.Result> out = new LinkedHashMap<>();
        for (Inventory.Host h : inventory.hosts()) out.put(h.name(), ssh.run(h, logsCommand(h, lines, false)));
        return out;
    }

    private List<PortState> failed(Inventory.Host h, String why) {
        return expanded.ports().stream()
                .map(p -> new PortState(h.name(), h.address(), p, "failed", why))
                .toList();
    }

    private List<PortState> awaitReady(Inventory.Host h, Duration timeout) {
        List<PortState> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int p : expanded.ports()) {
            boolean[] died = {false};
            boolean ok = Await.until(
                            () -> {
                                if (ready(h, p)) return true;
                                Ssh.Result st = ssh.run(h, statusCommand(h));
                                died[0] = st.ok() && st.out().startsWith("STOPPED"); // it died: no point waiting
                                return died[0];
                            },
                            Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))
                    && !died[0];
            if (ok) out.add(new PortState(h.name(), h.address(), p, "up", ""));
            else {
                Ssh.Result tail = ssh.run(h, logsCommand(h, 15, false));
                out.add(new PortState(
                        h.name(),
                        h.address(),
                        p,
                        "failed",
                        "not ready on " + expanded.readyPath() + "; log tail: "
                                + tail.out().strip()));
            }
        }
        return out;
    }

    private final OkHttpClient http = OpenAiClient.http(8, Duration.ofSeconds(3));

    private boolean ready(Inventory.Host h, int port) {
        String host = h.address().contains(":") ? "[" + h.address() + "]" : h.address();
        return new OpenAiClient(http, "http://" + host + ":" + port, null, true)
                        .get(expanded.readyPath())
                        .status()
                == 200;
    }

    private List<PortState> perHost(Function<Inventory.Host, List<PortState>> f) {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<List<PortState>>> fs = inventory.hosts().stream()
                    .map(h -> CompletableFuture.supplyAsync(() -> f.apply(h), pool))
                    .toList();
            List<PortState> out = new ArrayList<>();
            fs.forEach(x -> out.addAll(x.join()));
            return out;
        }
    }

    public static String table(List<PortState> rows) {
        StringBuilder sb = new StringBuilder(
                String.format("%-16s %-16s %6s  %-10s %s%n", "host", "address", "port", "state", "detail"));
        for (PortState r : rows) {
            String d = r.detail().replace('\n', ' ');
            sb.append(String.format(
                    "%-16s %-16s %6d  %-10s %s%n",
                    r.host(), r.address(), r.port(), r.state(), d.length() > 160 ? d.substring(0, 160) + "…" : d));
        }
        return sb.toString().stripTrailing();
    }
}
