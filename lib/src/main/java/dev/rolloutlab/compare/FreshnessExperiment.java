package dev.rolloutlab.compare;

import dev.rolloutlab.bench.Summary;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.engine.Checkpoint;
import dev.rolloutlab.engine.DType;
import dev.rolloutlab.engine.EngineOptions;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.Safetensors;
import dev.rolloutlab.engine.Tensor;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * A simulated training loop: every step generates a batch of GRPO groups, then the trainer produces new weights and
 * hands them to the rollout side with one strategy. The next batch starts at once (a pipelined trainer does not
 * wait), so every sample's version lag — trainer version when sent minus the version it was sampled under — shows
 * how fresh each strategy keeps the rollouts.
 */
public final class FreshnessExperiment {
    /** One sampled request of the experiment. */
    public record Sample(String strategy, int step, long trainerVersion, long weightsVersion, long lag, int status,
                         String backend, boolean retried, String error) {
    }

    /** One row of freshness.csv. */
    public record StrategySummary(String strategy, int steps, int samples, double meanUpdateMs, double meanPropagationMs,
                                  int lost, int retried, double meanLag, long maxLag) {
        Summary asSummary() {
            return Summary.builder(strategy, "keep-alive", "freshness").completed(samples - lost).failed(lost).durationS(0)
                    .meanStalenessVersions(meanLag).build();
        }
    }

    private final CompareConfig c;
    private final Path model;
    private final Path work;
    private final PrintStream log;
    private final okhttp3.OkHttpClient http;
    private final List<Sample> samples = new ArrayList<>();
    private final String token = UUID.randomUUID().toString();

    public FreshnessExperiment(CompareConfig c, Path model, Path resultsDir, PrintStream log, okhttp3.OkHttpClient http) {
        this.c = c;
        this.model = model;
        this.work = resultsDir.resolve("freshness-work");
        this.log = log;
        this.http = http;
    }

    public List<Sample> samples() {
        return samples;
    }

    public List<StrategySummary> run(BooleanSupplier stopped, Runnable strategyDone) {
        List<StrategySummary> out = new ArrayList<>();
        try {
            for (String s : c.strategies()) {
                if (stopped.getAsBoolean()) break;
                log.println("compare: freshness " + s);
                out.add(s.equals("inproc-swap") ? inproc() : http(s));
                strategyDone.run();
            }
        } finally {
            if (shared != null) {
                try {
                    shared.close();
                } catch (Exception ignored) {
                    // teardown
                }
            }
            deleteTree(work);
        }
        return out;
    }

    /** The push and reload strategies share one server process; versions continue across them. */
    private AutoCloseable shared;
    private List<Integer> sharedPorts;

    /** The trainer's next weights: every tensor moved by seeded noise, as one optimiser step would. */
    private static Map<String, Tensor> nextWeights(Map<String, Tensor> prev, int step) {
        Map<String, Tensor> next = new LinkedHashMap<>();
        SplittableRandom r = new SplittableRandom(1000 + step);
        for (Tensor t : prev.values()) {
            float[] d = t.data().clone();
            for (int i = 0; i < d.length; i++) d[i] += (float) ((r.nextDouble() - 0.5) * 2e-3);
            next.put(t.name(), new Tensor(t.name(), t.shape(), d));
        }
        return next;
    }

    private List<CompletionRequest> batch(int step) {
        List<CompletionRequest> reqs = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(step);
        for (int i = 0; i < c.freshnessBatch(); i++) {
            int[] ids = new int[16];
            for (int j = 0; j < ids.length; j++) ids[j] = 10 + r.nextInt(900);
            reqs.add(CompletionRequest.completion(null, ids, 16, 1.0).withSampling(c.groupSize(), (long) step * 100 + i, true));
        }
        return reqs;
    }

    private StrategySummary inproc() {
        Checkpoint cp = Checkpoint.load(model);
        Map<String, Tensor> w = cp.weights().tensors();
        List<Double> update = new ArrayList<>();
        int before = samples.size();
        try (InProcessEngine engine = new InProcessEngine(cp, EngineOptions.DEFAULT);
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            InProcessTarget target = new InProcessTarget(engine);
            for (int step = 0; step < c.freshnessSteps(); step++) {
                long t = step;
                List<CompletableFuture<OpenAiClient.Result>> fs = new ArrayList<>();
                for (CompletionRequest r : batch(step)) fs.add(CompletableFuture.supplyAsync(() -> target.send(r), pool));
                for (var f : fs) {
                    OpenAiClient.Result res = f.join();
                    samples.add(new Sample("inproc-swap", (int) t, t, res.weightsVersion(), t - res.weightsVersion(), res.status(), "inproc", false, res.error()));
                }
                w = nextWeights(w, step + 1);
                long u0 = System.nanoTime();
                engine.updateWeights(w);
                update.add((System.nanoTime() - u0) / 1e6);
            }
        }
        return summarize("inproc-swap", before, update, update);
    }

    private StrategySummary http(String strategy) {
        Checkpoint cp = Checkpoint.load(model);
        Path logs = work.getParent().resolve("logs");
        boolean restart = strategy.equals("http-restart");
        List<Integer> ports;
        AutoCloseable[] serve = new AutoCloseable[1];
        if (restart) {
            ports = freePorts(servers());
            serve[0] = startServe(model, ports, 0, logs.resolve(strategy + "-0.log"));
        } else {
            if (shared == null) {
                sharedPorts = freePorts(servers());
                shared = startServe(model, sharedPorts, 0, logs.resolve("freshness-serve.log"));
            }
            ports = sharedPorts;
        }
        List<OpenAiClient> clients = ports.stream().map(p -> new OpenAiClient(http, "http://127.0.0.1:" + p, null, true)).toList();
        // the trainer starts from the version the servers hold now (earlier strategies moved it on)
        long base = clients.get(0).getWith("/admin/weights_checksum", Map.of("X-Admin-Token", token)).json().path("version").asLong(0);
        List<Double> update = new ArrayList<>(), propagation = new ArrayList<>();
        int before = samples.size();
        Map<String, Tensor> w = cp.weights().tensors();
        CompletableFuture<Void> pending = CompletableFuture.completedFuture(null);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int step = 0; step < c.freshnessSteps(); step++) {
                long t = base + step;
                List<CompletionRequest> reqs = batch(step);
                List<CompletableFuture<Sample>> fs = new ArrayList<>();
                for (int i = 0; i < reqs.size(); i++) {
                    int k = i;
                    fs.add(CompletableFuture.supplyAsync(() -> sendWithRetry(strategy, t, reqs.get(k), clients, k), pool));
                }
                for (var f : fs) samples.add(f.join());
                pending.join(); // at most one update in flight, as a trainer would have
                Map<String, Tensor> next = nextWeights(w, step + 1);
                w = next;
                long version = base + step + 1;
                long u0 = System.nanoTime();
                double[] cost = new double[1];
                // the update proceeds in the background while the next batch is already being generated
                pending = CompletableFuture.runAsync(() -> {
                    apply(strategy, next, version, clients, ports, serve, logs, cost);
                    propagation.add((System.nanoTime() - u0) / 1e6);
                    update.add(cost[0]);
                }, pool);
            }
            pending.join();
        } finally {
            if (restart) {
                try {
                    serve[0].close();
                } catch (Exception ignored) {
                    // teardown
                }
            }
        }
        return summarize(strategy, before, update, propagation);
    }

    private void apply(String strategy, Map<String, Tensor> w, long version, List<OpenAiClient> clients, List<Integer> ports,
                       AutoCloseable[] serve, Path logs, double[] cost) {
        long t0 = System.nanoTime();
        Map<String, String> h = Map.of("X-Admin-Token", token);
        switch (strategy) {
            case "http-push-all", "http-push-rolling" -> {
                byte[] body = Safetensors.toBytes(w, DType.F32);
                cost[0] = (System.nanoTime() - t0) / 1e6;
                if (strategy.endsWith("all")) {
                    clients.parallelStream().forEach(cl -> check(cl.postBytes("/admin/update_weights", body, "application/octet-stream", h)));
                } else {
                    for (OpenAiClient cl : clients) check(cl.postBytes("/admin/update_weights", body, "application/octet-stream", h));
                }
            }
            case "http-reload" -> {
                Path dir = save(w, version);
                cost[0] = (System.nanoTime() - t0) / 1e6;
                clients.parallelStream().forEach(cl -> check(cl.post("/admin/reload_weights", Map.of("model_path", dir.toString()), h)));
            }
            case "http-restart" -> {
                Path dir = save(w, version);
                cost[0] = (System.nanoTime() - t0) / 1e6;
                try {
                    serve[0].close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                serve[0] = startServe(dir, ports, version, logs.resolve(strategy + "-" + version + ".log"));
            }
            default -> throw new IllegalArgumentException("unknown strategy " + strategy);
        }
    }

    private static void check(OpenAiClient.Exchange x) {
        if (!x.ok()) throw new IllegalStateException("weight update failed: " + x.status() + " " + (x.error() != null ? x.error() : x.body()));
    }

    private Sample sendWithRetry(String strategy, long t, CompletionRequest r, List<OpenAiClient> clients, int k) {
        OpenAiClient.Result res = clients.get(k % clients.size()).complete(r);
        boolean retried = false;
        for (int attempt = 1; !res.ok() && attempt <= 20; attempt++) {
            // a restarting server refuses connections; the client tries the others, then waits and tries again
            retried = true;
            sleepQuietly(attempt > clients.size() ? 250 : 0);
            res = clients.get((k + attempt) % clients.size()).complete(r);
        }
        return new Sample(strategy, (int) t, t, res.weightsVersion(), res.ok() ? t - res.weightsVersion() : -1, res.status(),
                res.backend(), retried, res.error());
    }

    private ServeProcess startServe(Path dir, List<Integer> ports, long version, Path logFile) {
        return ServeProcess.start(List.of("--model", dir.toString(), "--num-servers", String.valueOf(ports.size()),
                "--ports", String.join(",", ports.stream().map(String::valueOf).toList()), "--enable-weight-reload",
                "--admin-token", token, "--weights-version", String.valueOf(version), "--served-model-name", "m"), logFile, Duration.ofSeconds(120));
    }

    private Path save(Map<String, Tensor> w, long version) {
        try {
            Path dir = work.resolve("step-" + version);
            Files.createDirectories(dir);
            for (String f : new String[]{"config.json", "tokenizer.json"}) Files.copy(model.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Safetensors.write(dir.resolve("model.safetensors"), w, DType.F32);
            deleteTree(work.resolve("step-" + (version - 2))); // keep disk use flat
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private StrategySummary summarize(String strategy, int from, List<Double> update, List<Double> propagation) {
        List<Sample> mine = samples.subList(from, samples.size());
        int lost = (int) mine.stream().filter(s -> s.status() != 200 || s.error() != null).count();
        int retried = (int) mine.stream().filter(Sample::retried).count();
        double meanLag = mine.stream().filter(s -> s.lag() >= 0).mapToLong(Sample::lag).average().orElse(Double.NaN);
        long maxLag = mine.stream().mapToLong(Sample::lag).max().orElse(0);
        StrategySummary s = new StrategySummary(strategy, c.freshnessSteps(), mine.size(), mean(update), mean(propagation), lost, retried, meanLag, maxLag);
        log.printf("  %-18s update %8.1f ms  all serving after %8.1f ms  lost %d retried %d  mean lag %.2f  max lag %d%n",
                strategy, s.meanUpdateMs(), s.meanPropagationMs(), lost, retried, meanLag, maxLag);
        return s;
    }

    private static double mean(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** Two servers show propagation across a fleet; more only repeat it on two cores. */
    private int servers() {
        return Math.min(2, c.numServers());
    }

    static List<Integer> freePorts(int n) {
        return dev.rolloutlab.util.Ports.free(n);
    }

    private static void sleepQuietly(long ms) {
        if (ms <= 0) return;
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (var s = Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // leftovers in a results folder are harmless
        }
    }
}
