package dev.rolloutlab.commands;

import dev.rolloutlab.cluster.FleetUpdate;
import dev.rolloutlab.cluster.Registry;
import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.SparseDelta;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.util.HostPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code weights}: the admin client for the weight endpoints of one server or of every backend in a registry. */
@Command(
        name = "weights",
        mixinStandardHelpOptions = true,
        description = "Weight admin client: checksum, status, perturb, reload, update, against --base-url or every "
                + "backend of --registry-url.",
        subcommands = {
            WeightsCommand.Checksum.class,
            WeightsCommand.Status.class,
            WeightsCommand.Perturb.class,
            WeightsCommand.Reload.class,
            WeightsCommand.Update.class
        })
public final class WeightsCommand implements Runnable {
    // optional to picocli, so that a subcommand's --help works alone; targets() asks for it when a request is to be
    // sent
    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Servers servers;

    /** One server or every server of a registry, exactly one. */
    static final class Servers {
        @Option(names = "--base-url", description = "One server, e.g. http://127.0.0.1:31000.")
        String baseUrl;

        @Option(
                names = "--registry-url",
                description = "A commander registry; the command runs on every backend it lists.")
        String registryUrl;
    }

    @Option(names = "--admin-token", description = "Admin token of the servers.")
    String adminToken;

    @Option(names = "--admin-token-file", description = "File holding the admin token.")
    Path adminTokenFile;

    @Option(
            names = "--timeout-sec",
            defaultValue = "600",
            description = "Per-request timeout. Default: ${DEFAULT-VALUE}")
    int timeoutSec;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(
                spec.commandLine(), "name a subcommand: checksum, status, perturb, reload or update");
    }

    List<String> targets() {
        if (servers == null) {
            throw new Cli.UserError(
                    "name the servers: --base-url URL (one server) or --registry-url URL (every backend it lists)");
        }
        if (servers.baseUrl != null) return List.of(HostPort.url(servers.baseUrl));
        return Registry.fetchBackends(servers.registryUrl, Duration.ofSeconds(10)).backends().stream()
                .map(HostPort::url)
                .toList();
    }

    Map<String, String> headers() {
        String t = Cli.secret(adminToken, adminTokenFile, "--admin-token-file");
        return t == null ? Map.of() : Map.of("X-Admin-Token", t);
    }

    /** Runs one request per target, prints {@code <url> <status> <body>} lines, exits 0 only if all were 2xx. */
    int each(BiFunction<OpenAiClient, Map<String, String>, OpenAiClient.Exchange> call) {
        var http = OpenAiClient.http(4, Duration.ofSeconds(timeoutSec));
        Map<String, String> h = headers();
        boolean ok = true;
        for (String url : targets()) {
            OpenAiClient.Exchange x = call.apply(new OpenAiClient(http, url, null, true), h);
            ok &= x.ok();
            System.out.println(url + " " + x.status() + " "
                    + (x.error() != null ? x.error() : x.body().trim()));
        }
        return ok ? 0 : 1;
    }

    @Command(name = "checksum", mixinStandardHelpOptions = true, description = "GET /admin/weights_checksum.")
    static final class Checksum implements Callable<Integer> {
        @ParentCommand
        WeightsCommand parent;

        public Integer call() {
            return parent.each((c, h) -> c.getWith("/admin/weights_checksum", h));
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "GET /admin/reload_status.")
    static final class Status implements Callable<Integer> {
        @ParentCommand
        WeightsCommand parent;

        public Integer call() {
            return parent.each((c, h) -> c.getWith("/admin/reload_status", h));
        }
    }

    @Command(
            name = "perturb",
            mixinStandardHelpOptions = true,
            description = "POST /admin/perturb_weights: seeded noise on the first tensors.")
    static final class Perturb implements Callable<Integer> {
        @ParentCommand
        WeightsCommand parent;

        @Option(names = "--seed", defaultValue = "0")
        long seed;

        @Option(names = "--scale", defaultValue = "1e-3")
        double scale;

        @Option(names = "--num-leaves", description = "How many tensors, in checkpoint order. Default: all.")
        Integer numLeaves;

        public Integer call() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("seed", seed);
            body.put("scale", scale);
            body.put("num_leaves", numLeaves);
            return parent.each((c, h) -> c.post("/admin/perturb_weights", body, h));
        }
    }

    @Command(
            name = "reload",
            mixinStandardHelpOptions = true,
            description = "POST /admin/reload_weights: load weights from a folder on the server's host.")
    static final class Reload implements Callable<Integer> {
        @ParentCommand
        WeightsCommand parent;

        @Option(names = "--model-path", required = true, description = "Model folder as the server sees it.")
        String modelPath;

        public Integer call() {
            return parent.each((c, h) -> c.post("/admin/reload_weights", Map.of("model_path", modelPath), h));
        }
    }

    @Command(
            name = "update",
            mixinStandardHelpOptions = true,
            description = "Push a local folder's tensors to every server "
                    + "(POST /admin/update_weights), or with --atomic as a transaction: stage on all, "
                    + "commit only if all staged.")
    static final class Update implements Callable<Integer> {
        @ParentCommand
        WeightsCommand parent;

        @Option(names = "--from", required = true, description = "Local model folder whose *.safetensors are pushed.")
        Path from;

        @Option(
                names = "--atomic",
                description = "Stage on every server (checksummed, old weights keep serving), then commit everywhere; "
                        + "a failed stage aborts everywhere and names the server.")
        boolean atomic;

        @Option(
                names = "--delta-from",
                paramLabel = "DIR",
                description = "Send only the elements that differ from this folder (the weights "
                        + "the servers hold now) as a sparse delta; a server on another version refuses it with 409.")
        Path deltaFrom;

        @Option(
                names = "--base-version",
                description =
                        "The version the servers must be on (default: with --delta-from, the version they report).")
        Long baseVersion;

        @Option(
                names = "--drain",
                paramLabel = "MS",
                description = "Before each server swaps, let its requests in flight finish for up to MS "
                        + "milliseconds (it takes no new ones meanwhile), then abort the rest, so no request "
                        + "spans two versions. "
                        + "Reports the time to quiesce and the tokens thrown away.")
        Long drainMs;

        public Integer call() {
            var http = OpenAiClient.http(16, Duration.ofSeconds(parent.timeoutSec));
            List<String> urls = parent.targets();
            if (urls.isEmpty()) throw new Cli.UserError("no servers: the registry lists no backends");
            Long base = baseVersion;
            if (drainMs != null && drainMs < 0)
                throw new Cli.UserError("--drain must be 0 or more milliseconds, got " + drainMs);
            Duration drain = drainMs == null ? null : Duration.ofMillis(drainMs);
            byte[] body;
            if (deltaFrom != null) {
                if (base == null) {
                    try {
                        base = FleetUpdate.commonVersion(http, urls, parent.headers());
                    } catch (IllegalStateException e) {
                        throw new Cli.UserError(e.getMessage());
                    }
                }
                SparseDelta d =
                        SparseDelta.between(base, Checkpoint.readTensors(deltaFrom), Checkpoint.readTensors(from));
                body = d.toBytes();
                System.err.printf(
                        "pushing a sparse delta: %,d changed elements in %d tensors, %.1f MB, on version %d%n",
                        d.elements(), d.tensors().size(), body.length / 1e6, base);
            } else {
                body = Safetensors.toBytes(Checkpoint.readTensors(from), DType.F32);
                System.err.printf("pushing %.1f MB%n", body.length / 1e6);
            }
            FleetUpdate.Outcome o = atomic
                    ? FleetUpdate.atomic(http, urls, body, base, drain, parent.headers())
                    : FleetUpdate.plain(http, urls, body, base, drain, parent.headers());
            for (FleetUpdate.Server s : o.servers()) {
                System.out.printf(
                        Locale.ROOT,
                        "%s %s version %d checksum %s pause %s%n",
                        s.url(),
                        s.stageStatus() == 0
                                ? ""
                                : "stage " + s.stageStatus()
                                        + (s.stageError() != null ? " (" + s.stageError() + ")" : "") + ",",
                        s.version(),
                        Double.isNaN(s.checksum()) ? "?" : String.valueOf(s.checksum()),
                        Double.isNaN(s.pauseMs())
                                ? "-"
                                : String.format(Locale.ROOT, "%.2f ms", s.pauseMs())
                                        + (s.commitError() != null ? " (" + s.commitError() + ")" : ""));
                if (s.drain() != null)
                    System.out.printf(
                            Locale.ROOT,
                            "  drain: quiet after %.1f ms, %d in flight, %d aborted, %d tokens thrown away%n",
                            s.drain().quiesceMs(),
                            s.drain().inFlight(),
                            s.drain().aborted(),
                            s.drain().tokensThrownAway());
            }
            System.out.printf(
                    Locale.ROOT,
                    "%s %d server(s): %.1f MB, %s%.0f ms wall%n",
                    o.committed() ? "updated" : "NOT updated",
                    o.servers().size(),
                    o.bytes() / 1e6,
                    atomic
                            ? String.format(
                                    Locale.ROOT, "staged in %.0f ms, committed in %.0f ms, ", o.stageMs(), o.commitMs())
                            : "",
                    o.wallMs());
            if (!o.committed()) System.err.println("weights update: " + o.reason());
            return o.committed() ? 0 : 1;
        }
    }
}
