package dev.rolloutlab.benchmarks;

import dev.rolloutlab.cluster.FleetUpdate;
import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.DefaultModels;
import dev.rolloutlab.engine.model.SparseDelta;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.util.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import okhttp3.OkHttpClient;

/**
 * Fleet weight sync on this machine: one serve JVM with N ports (one engine each), the default model; each step a
 * simulated training step changes a fraction of the elements; the update goes out full or as a sparse delta, plain
 * (push to all) or atomic (stage on all, then commit). Variants interleave step by step; medians and ranges printed.
 * Usage: {@code tests/bench weights [shape] [ports] [steps] [fraction]}.
 */
public final class WeightSyncBenchmark {
    public static void main(String[] args) throws Exception {
        String shape = args.length > 0 ? args[0] : "small";
        int ports = args.length > 1 ? Integer.parseInt(args[1]) : 4,
                steps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        double fraction = args.length > 3 ? Double.parseDouble(args[3]) : 0.045;
        Path work = Files.createDirectories(Path.of("target", "bench-weights").toAbsolutePath());
        Path model = DefaultModels.ensure(shape);
        Path token = Files.writeString(work.resolve("admin.token"), "bench-admin");
        System.out.printf(
                "machine: %d cores, java %s; model %s, %d ports in one serve JVM, %d steps per variant, %.1f %% of elements change per step%n",
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"),
                shape,
                ports,
                steps,
                fraction * 100);
        try (ServeProcess serve = ServeProcess.start(
                List.of(
                        "--model",
                        model.toString(),
                        "--num-servers",
                        String.valueOf(ports),
                        "--base-port",
                        "0",
                        "--enable-weight-reload",
                        "--admin-token-file",
                        token.toString()),
                work.resolve("serve.log"),
                Duration.ofSeconds(180))) {
            var http = OpenAiClient.http(16, Duration.ofSeconds(300));
            Map<String, String> admin = Map.of("X-Admin-Token", "bench-admin");
            Map<String, Tensor> cur = Checkpoint.readTensors(model);
            long version = 0;
            String[] variants = {"plain full", "plain delta", "atomic full", "atomic delta"};
            Map<String, List<double[]>> results = new LinkedHashMap<>(); // {wall ms, MB, max pause ms}
            SplittableRandom r = new SplittableRandom(1);
            for (int s = 0; s < steps; s++) {
                for (String v : variants) {
                    Map<String, Tensor> next = step(cur, fraction, r);
                    byte[] body = v.endsWith("delta")
                            ? SparseDelta.between(version, cur, next).toBytes()
                            : Safetensors.toBytes(next, DType.F32);
                    FleetUpdate.Outcome o = v.startsWith("atomic")
                            ? FleetUpdate.atomic(http, serve.urls(), body, version, null, admin)
                            : FleetUpdate.plain(http, serve.urls(), body, version, null, admin);
                    if (!o.committed()) throw new IllegalStateException(v + ": " + o.reason());
                    double pause = o.servers().stream()
                            .mapToDouble(FleetUpdate.Server::pauseMs)
                            .max()
                            .orElse(Double.NaN);
                    results.computeIfAbsent(v, k -> new ArrayList<>())
                            .add(new double[] {o.wallMs(), body.length / 1e6, pause});
                    cur = next;
                    version++;
                }
            }
            System.out.println(
                    "variant        payload MB   wall ms median [min, max]   max pause per server ms median [min, max]");
            results.forEach((v, xs) -> System.out.printf(
                    "%-14s %10.2f   %8.1f [%.1f, %.1f]   %8.2f [%.2f, %.2f]%n",
                    v, xs.get(0)[1], median(xs, 0), min(xs, 0), max(xs, 0), median(xs, 2), min(xs, 2), max(xs, 2)));
            drain(http, serve.urls(), admin, cur, version, steps, fraction, r);
        }
        System.exit(0);
    }

    /**
     * Time to quiesce and tokens thrown away: 2 requests of 256 tokens in flight on every port, then a plain delta
     * update whose servers drain for at most D ms first. D = 0 aborts at once; a long D lets everything finish.
     */
    static void drain(
            OkHttpClient http,
            List<String> urls,
            Map<String, String> admin,
            Map<String, Tensor> cur,
            long version,
            int steps,
            double fraction,
            SplittableRandom r)
            throws Exception {
        long[] deadlines = {0, 250, 30_000};
        Map<Long, List<double[]>> out =
                new LinkedHashMap<>(); // {max quiesce ms, aborted, tokens thrown away, update wall ms}
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int s = 0; s < steps; s++) {
                for (long d : deadlines) {
                    List<Future<?>> inFlight = new ArrayList<>();
                    for (String u : urls) {
                        for (int k = 0; k < 2; k++) {
                            inFlight.add(pool.submit(() -> new OpenAiClient(http, u, null, true)
                                    .post(
                                            "/v1/completions",
                                            Map.of(
                                                    "prompt",
                                                    List.of(5, 6, 7, 8),
                                                    "max_tokens",
                                                    256,
                                                    "ignore_eos",
                                                    true,
                                                    "temperature",
                                                    1.0),
                                            Map.of())));
                        }
                    }
                    for (String u : urls) {
                        Await.until(
                                () -> new OpenAiClient(http, u, null, true)
                                                .get("/get_load")
                                                .json()
                                                .path("num_running_reqs")
                                                .asInt()
                                        >= 2,
                                Duration.ofSeconds(30));
                    }
                    Map<String, Tensor> next = step(cur, fraction, r);
                    FleetUpdate.Outcome o = FleetUpdate.plain(
                            http,
                            urls,
                            SparseDelta.between(version, cur, next).toBytes(),
                            version,
                            Duration.ofMillis(d),
                            admin);
                    if (!o.committed()) throw new IllegalStateException("drain " + d + ": " + o.reason());
                    for (var f : inFlight) f.get();
                    double quiesce = 0, aborted = 0, thrown = 0;
                    for (FleetUpdate.Server sv : o.servers()) {
                        quiesce = Math.max(quiesce, sv.drain().quiesceMs());
                        aborted += sv.drain().aborted();
                        thrown += sv.drain().tokensThrownAway();
                    }
                    out.computeIfAbsent(d, k -> new ArrayList<>())
                            .add(new double[] {quiesce, aborted, thrown, o.wallMs()});
                    cur = next;
                    version++;
                }
            }
        }
        System.out.printf("drain (2 x 256-token requests in flight per port, %d requests in all)%n", 2 * urls.size());
        System.out.println(
                "deadline ms   time to quiesce ms median [min, max]   aborted median [min, max]   tokens thrown away median [min, max]   update wall ms median");
        out.forEach((d, xs) -> System.out.printf(
                "%11d   %8.1f [%.1f, %.1f]   %5.0f [%.0f, %.0f]   %7.0f [%.0f, %.0f]   %8.1f%n",
                d,
                median(xs, 0),
                min(xs, 0),
                max(xs, 0),
                median(xs, 1),
                min(xs, 1),
                max(xs, 1),
                median(xs, 2),
                min(xs, 2),
                max(xs, 2),
                median(xs, 3)));
    }

    /** A simulated training step: {@code fraction} of the elements of every tensor move a little. */
    static Map<String, Tensor> step(Map<String, Tensor> cur, double fraction, SplittableRandom r) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : cur.entrySet()) {
            float[] d = e.getValue().data().clone();
            for (int i = 0; i < d.length; i++) if (r.nextDouble() < fraction) d[i] += (float) (r.nextGaussian() * 1e-3);
            out.put(e.getKey(), new Tensor(e.getKey(), e.getValue().shape(), d));
        }
        return out;
    }

    private static double[] col(List<double[]> xs, int i) {
        return xs.stream().mapToDouble(x -> x[i]).sorted().toArray();
    }

    private static double median(List<double[]> xs, int i) {
        double[] c = col(xs, i);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }

    private static double min(List<double[]> xs, int i) {
        return Arrays.stream(col(xs, i)).min().orElse(Double.NaN);
    }

    private static double max(List<double[]> xs, int i) {
        return Arrays.stream(col(xs, i)).max().orElse(Double.NaN);
    }
}
