package dev.rolloutlab.benchmarks;

import dev.rolloutlab.cluster.FleetUpdate;
import dev.rolloutlab.engine.Checkpoint;
import dev.rolloutlab.engine.DType;
import dev.rolloutlab.engine.DefaultModels;
import dev.rolloutlab.engine.Safetensors;
import dev.rolloutlab.engine.SparseDelta;
import dev.rolloutlab.engine.Tensor;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ServeProcess;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Fleet weight sync on this machine: one serve JVM with N ports (one engine each), the default model; each step a
 * simulated training step changes a fraction of the elements; the update goes out full or as a sparse delta, plain
 * (push to all) or atomic (stage on all, then commit). Variants interleave step by step; medians and ranges printed.
 * Usage: {@code tests/bench weights [shape] [ports] [steps] [fraction]}.
 */
public final class WeightSyncBenchmark {
    public static void main(String[] args) throws Exception {
        String shape = args.length > 0 ? args[0] : "small";
        int ports = args.length > 1 ? Integer.parseInt(args[1]) : 4, steps = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        double fraction = args.length > 3 ? Double.parseDouble(args[3]) : 0.045;
        Path work = Files.createDirectories(Path.of("target", "bench-weights").toAbsolutePath());
        Path model = DefaultModels.ensure(shape);
        Path token = Files.writeString(work.resolve("admin.token"), "bench-admin");
        System.out.printf("machine: %d cores, java %s; model %s, %d ports in one serve JVM, %d steps per variant, %.1f %% of elements change per step%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), shape, ports, steps, fraction * 100);
        try (ServeProcess serve = ServeProcess.start(List.of("--model", model.toString(), "--num-servers", String.valueOf(ports), "--base-port", "0",
                "--enable-weight-reload", "--admin-token-file", token.toString()), work.resolve("serve.log"), Duration.ofSeconds(180))) {
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
                    byte[] body = v.endsWith("delta") ? SparseDelta.between(version, cur, next).toBytes() : Safetensors.toBytes(next, DType.F32);
                    FleetUpdate.Outcome o = v.startsWith("atomic") ? FleetUpdate.atomic(http, serve.urls(), body, version, null, admin)
                            : FleetUpdate.plain(http, serve.urls(), body, version, null, admin);
                    if (!o.committed()) throw new IllegalStateException(v + ": " + o.reason());
                    double pause = o.servers().stream().mapToDouble(FleetUpdate.Server::pauseMs).max().orElse(Double.NaN);
                    results.computeIfAbsent(v, k -> new ArrayList<>()).add(new double[]{o.wallMs(), body.length / 1e6, pause});
                    cur = next;
                    version++;
                }
            }
            System.out.println("variant        payload MB   wall ms median [min, max]   max pause per server ms median [min, max]");
            results.forEach((v, xs) -> System.out.printf("%-14s %10.2f   %8.1f [%.1f, %.1f]   %8.2f [%.2f, %.2f]%n", v, xs.get(0)[1],
                    median(xs, 0), min(xs, 0), max(xs, 0), median(xs, 2), min(xs, 2), max(xs, 2)));
        }
        System.exit(0);
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
