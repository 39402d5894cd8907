package dev.rolloutlab.commands;

import dev.rolloutlab.engine.Checkpoint;
import dev.rolloutlab.engine.DType;
import dev.rolloutlab.engine.Safetensors;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.cluster.Registry;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code weights}: the admin client for the weight endpoints of one server or of every backend in a registry. */
@Command(name = "weights", mixinStandardHelpOptions = true,
        description = "Weight admin client: checksum, status, perturb, reload, update, against --base-url or every backend of --registry-url.",
        subcommands = {WeightsCommand.Checksum.class, WeightsCommand.Status.class, WeightsCommand.Perturb.class,
                WeightsCommand.Reload.class, WeightsCommand.Update.class})
public final class WeightsCommand implements Runnable {
    @ArgGroup(exclusive = true, multiplicity = "1")
    Servers servers;

    /** One server or every server of a registry, exactly one. */
    static final class Servers {
        @Option(names = "--base-url", description = "One server, e.g. http://127.0.0.1:31000.")
        String baseUrl;
        @Option(names = "--registry-url", description = "A commander registry; the command runs on every backend it lists.")
        String registryUrl;
    }
    @Option(names = "--admin-token", description = "Admin token of the servers.")
    String adminToken;
    @Option(names = "--admin-token-file", description = "File holding the admin token.")
    Path adminTokenFile;
    @Option(names = "--timeout-sec", defaultValue = "600", description = "Per-request timeout. Default: ${DEFAULT-VALUE}")
    int timeoutSec;
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "name a subcommand: checksum, status, perturb, reload or update");
    }

    List<String> targets() {
        if (servers.baseUrl != null) return List.of(OpenAiClient.normalize(servers.baseUrl));
        return Registry.fetchBackends(servers.registryUrl, Duration.ofSeconds(10)).backends().stream().map(OpenAiClient::normalize).toList();
    }

    Map<String, String> headers() {
        String t = Cli.secret(adminToken, adminTokenFile, "--admin-token-file");
        return t == null ? Map.of() : Map.of("X-Admin-Token", t);
    }

    /** Runs one request per target, prints {@code <url> <status> <body>} lines, exits 0 only if all were 2xx. */
    int each(java.util.function.BiFunction<OpenAiClient, Map<String, String>, OpenAiClient.Exchange> call) {
        var http = OpenAiClient.http(4, Duration.ofSeconds(timeoutSec));
        Map<String, String> h = headers();
        boolean ok = true;
        for (String url : targets()) {
            OpenAiClient.Exchange x = call.apply(new OpenAiClient(http, url, null, true), h);
            ok &= x.ok();
            System.out.println(url + " " + x.status() + " " + (x.error() != null ? x.error() : x.body().trim()));
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

    @Command(name = "perturb", mixinStandardHelpOptions = true, description = "POST /admin/perturb_weights: seeded noise on the first tensors.")
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

    @Command(name = "reload", mixinStandardHelpOptions = true, description = "POST /admin/reload_weights: load weights from a folder on the server's host.")
    static final class Reload implements Callable<Integer> {
        @ParentCommand
        WeightsCommand parent;
        @Option(names = "--model-path", required = true, description = "Model folder as the server sees it.")
        String modelPath;

        public Integer call() {
            return parent.each((c, h) -> c.post("/admin/reload_weights", Map.of("model_path", modelPath), h));
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true, description = "POST /admin/update_weights: push a local folder's tensors over HTTP.")
    static final class Update implements Callable<Integer> {
        @ParentCommand
        WeightsCommand parent;
        @Option(names = "--from", required = true, description = "Local model folder whose *.safetensors are pushed.")
        Path from;

        public Integer call() {
            byte[] body = Safetensors.toBytes(Checkpoint.readTensors(from), DType.F32);
            System.err.printf("pushing %.1f MB%n", body.length / 1e6);
            return parent.each((c, h) -> c.postBytes("/admin/update_weights", body, "application/octet-stream", h));
        }
    }
}
