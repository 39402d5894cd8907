package dev.rolloutlab.compare;

import dev.rolloutlab.cluster.FleetUpdate;
import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.SparseDelta;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.util.Folders;
import dev.rolloutlab.util.Secrets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;

/**
 * How the trainer's new weights reach the HTTP servers, one class per freshness experiment: full pushes (all at once,
 * rolling, or as an atomic stage-and-commit transaction), sparse deltas (plain or atomic), reload from a folder, or a
 * restart. Each update reports the trainer-side cost (serialising or writing) and the bytes it moved.
 */
final class WeightPush implements AutoCloseable {
    /**
     * One update: what it cost the trainer before anything was sent, the bytes moved to all servers together, and what
     * bytes over rates predict (NaN: no model).
     */
    record Cost(double trainerMs, long bytes, double predictedMs) {
        Cost(double trainerMs, long bytes) {
            this(trainerMs, bytes, Double.NaN);
        }
    }

    private final Path model;
    private final Path work;
    private final Path logs;
    private final String token;
    private final OkHttpClient http;
    private final List<Integer> ports;
    private ServeProcess serve;
    /** Where each serve process keeps its spans (a file of its own); null: no trace. */
    private final Path traceDir;

    WeightPush(Path model, Path work, Path logs, String token, OkHttpClient http, List<Integer> ports, Path traceDir) {
        this.traceDir = traceDir;
        this.model = model;
        this.work = work;
        this.logs = logs;
        this.token = token;
        this.http = http;
        this.ports = ports;
    }

    List<String> urls() {
        return ports.stream().map(p -> "http://127.0.0.1:" + p).toList();
    }

    /** Starts the servers on the checkpoint, at {@code version}, logging to {@code name}-{@code version}.log. */
    WeightPush start(String name, long version) {
        serve = startServe(model, version, logs.resolve(name + "-" + version + ".log"));
        return this;
    }

    /** Makes every server hold exactly {@code w}, untimed: each strategy starts with servers and trainer agreeing. */
    long reset(Map<String, Tensor> w) {
        FleetUpdate.Outcome o = FleetUpdate.plain(http, urls(), Safetensors.toBytes(w, DType.F32), null, null, admin());
        if (!o.committed()) throw new IllegalStateException("could not reset the freshness servers: " + o.reason());
        return o.servers().get(0).version();
    }

    /**
     * Moves {@code next} (the trainer's {@code version}) to every server with {@code strategy}; {@code prev} is what
     * they hold.
     */
    Cost apply(Strategy strategy, Map<String, Tensor> prev, Map<String, Tensor> next, long version) {
        long t0 = System.nanoTime();
        int n = ports.size();
        switch (strategy) {
            case PUSH_ALL, PUSH_ATOMIC, PUSH_ROLLING -> {
                byte[] body = Safetensors.toBytes(next, DType.F32);
                double ms = (System.nanoTime() - t0) / 1e6;
                if (strategy == Strategy.PUSH_ROLLING) {
                    for (String u : urls()) check(FleetUpdate.plain(http, List.of(u), body, null, null, admin()));
                } else if (strategy == Strategy.PUSH_ATOMIC) {
                    check(FleetUpdate.atomic(http, urls(), body, null, null, admin()));
                } else {
                    check(FleetUpdate.plain(http, urls(), body, null, null, admin()));
                }
                return new Cost(ms, (long) body.length * n);
            }
            case DELTA, DELTA_ATOMIC -> {
                byte[] body = SparseDelta.between(version - 1, prev, next).toBytes();
                double ms = (System.nanoTime() - t0) / 1e6;
                check(
                        strategy == Strategy.DELTA_ATOMIC
                                ? FleetUpdate.atomic(http, urls(), body, version - 1, null, admin())
                                : FleetUpdate.plain(http, urls(), body, version - 1, null, admin()));
                return new Cost(ms, (long) body.length * n);
            }
            case RELOAD -> {
                Path dir = save(next, version);
                double ms = (System.nanoTime() - t0) / 1e6;
                urls().parallelStream().forEach(u -> {
                    OpenAiClient.Exchange x = new OpenAiClient(http, u, null, true)
                            .post("/admin/reload_weights", Map.of("model_path", dir.toString()), admin());
                    if (!x.ok())
                        throw new IllegalStateException("reload failed on " + u + ": " + x.status() + " " + x.body());
                });
                return new Cost(ms, size(dir) * n);
            }
            case RESTART -> {
                Path dir = save(next, version);
                double ms = (System.nanoTime() - t0) / 1e6;
                serve.close();
                serve = startServe(dir, version, logs.resolve(Strategy.RESTART.wire() + "-" + version + ".log"));
                return new Cost(ms, size(dir) * n);
            }
            default -> throw new IllegalArgumentException(strategy + " does not run on compare's own servers");
        }
    }

    private Map<String, String> admin() {
        return Map.of("X-Admin-Token", token);
    }

    private static void check(FleetUpdate.Outcome o) {
        if (!o.committed()) throw new IllegalStateException("weight update failed: " + o.reason());
    }

    /**
     * Starts serve on {@code dir}; its admin token, which changes the servers' weights, is handed over in a file (a
     * command line is visible to every user).
     */
    private ServeProcess startServe(Path dir, long version, Path logFile) {
        // a file per start: the experiment starts its servers side by side
        Path tokenFile = work.resolve(logFile.getFileName() + ".admin-token");
        return Secrets.handOver(tokenFile, token, f -> startServe(dir, version, logFile, f));
    }

    private ServeProcess startServe(Path dir, long version, Path logFile, Path tokenFile) {
        List<String> args = new ArrayList<>(List.of(
                "--model",
                dir.toString(),
                "--num-servers",
                String.valueOf(ports.size()),
                "--ports",
                String.join(",", ports.stream().map(String::valueOf).toList()),
                "--enable-weight-reload",
                "--admin-token-file",
                tokenFile.toString(),
                "--weights-version",
                String.valueOf(version),
                "--served-model-name",
                "m"));
        if (traceDir != null) // one file per process: a restarted serve must not write into its predecessor's
        args.addAll(List.of(
                "--trace",
                traceDir.resolve("serve-weights-" + version + "-" + System.nanoTime() + ".jsonl")
                        .toString()));
        return ServeProcess.start(args, logFile, Duration.ofSeconds(120));
    }

    private Path save(Map<String, Tensor> w, long version) {
        try {
            Path dir = work.resolve("step-" + version);
            Files.createDirectories(dir);
            for (String f : new String[] {"config.json", "tokenizer.json"})
                Files.copy(model.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            Safetensors.write(dir.resolve("model.safetensors"), w, DType.F32);
            Folders.deleteQuietly(work.resolve("step-" + (version - 2))); // keep disk use flat
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long size(Path dir) {
        try {
            return Files.size(dir.resolve("model.safetensors"));
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        if (serve != null) serve.close();
    }
}
