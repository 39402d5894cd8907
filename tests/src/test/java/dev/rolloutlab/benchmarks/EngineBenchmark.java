package dev.rolloutlab.benchmarks;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import dev.rolloutlab.engine.*;
import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.Gguf;
import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.ModelShape;
import dev.rolloutlab.testing.LlamaCpp;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Engine benchmarks for docs/benchmarks.md (not a test). Run with {@code tests/bench engine [shape]}: single-stream
 * decode vs Jlama on the same checkpoint, batched throughput, a 128-token prefill and full weight-update time, each as
 * a fraction of the machine's limits measured in the same run, then llama.cpp on the same weights beside ours
 * ({@code llama}). A third argument (F32, BF16) sets the dtype.
 */
public final class EngineBenchmark {
    /** The prefix cache off: each figure repeats its prompt, which a cache would serve instead of computing. */
    private static final EngineOptions ENGINE = EngineOptions.DEFAULT.withPrefixCache(0);

    /** Prefills run before the timed five, so the kernels are compiled even when the prefill figure runs alone. */
    private static final int WARM_PREFILLS = 30;

    public static void main(String[] args) throws Exception {
        String shape = args.length > 0 ? args[0] : "small";
        String what = args.length > 1 ? args[1] : "all";
        switch (what) {
            case "pair" -> {
                PairedSingleStream.run(shape);
                System.exit(0);
            }
            case "kernels" -> {
                KernelTimes.run();
                System.exit(0);
            }
            default -> {}
        }
        DType dtype = DType.parse(args.length > 2 ? args[2] : "F32", "dtype (third argument)");
        Path dir = checkpoint(shape, dtype);
        System.out.printf(
                "machine: %d cores, java %s, vector API %s%n",
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"),
                ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
        MachineLimits limits = MachineLimits.measure();
        System.out.println(limits.describe());
        Checkpoint cp = Checkpoint.load(dir);
        long weightBytes = cp.weights().matrixBytes(); // what a decode step reads; embeddings are one row per token
        int[] prompt = cp.tokenizer().encode("Once upon a time there was a little model");
        int tokens = 200;
        Map<String, Double> ours = new LinkedHashMap<>();
        Map<String, Double> gflops = new LinkedHashMap<>(); // the compute-bound figures, for the closing fractions
        if (what.equals("all") || what.equals("single")) {
            try (InProcessEngine e = new InProcessEngine(cp, ENGINE)) {
                // the JIT settles over about five runs of 200 tokens here; three left bfloat16 at two thirds of its
                // rate
                for (int i = 0; i < 10; i++)
                    e.generate(new GenerationRequest(
                            prompt, 1, SamplingParams.greedy(tokens).withIgnoreEos(true)));
                double best = 0;
                for (int i = 0; i < 3; i++) {
                    long t0 = System.nanoTime();
                    e.generate(new GenerationRequest(
                            prompt, 1, SamplingParams.greedy(tokens).withIgnoreEos(true)));
                    best = Math.max(best, tokens / ((System.nanoTime() - t0) / 1e9));
                }
                double bound = limits.tokensPerSecondBound(weightBytes);
                ours.put("single-stream tok/s", best);
                System.out.printf(
                        "single-stream rollout-lab: %.1f tok/s (%s %s, %d tokens, best of 3): %.0f %% of the read bound"
                                + " %.1f tok/s (%.1f MB of weights per token)%n",
                        best, shape, dtype, tokens, 100 * best / bound, bound, weightBytes / 1e6);
            }
            for (String provider : dtype == DType.F32 ? new String[] {"native", "panama"} : new String[0]) {
                System.out.printf(
                        "single-stream jlama-%s: %.1f tok/s%n", provider, jlama(dir, prompt, tokens, provider));
            }
        }
        if (what.equals("all") || what.equals("batch")) {
            try (InProcessEngine e = new InProcessEngine(cp, ENGINE)) {
                double base = 0;
                // compiled before batch 1 counts: 64 warm-up tokens left its figure half a compiled run's
                for (int i = 0; i < 3; i++) run(e, prompt, 16, 128);
                for (int batch : new int[] {1, 4, 16, 32}) {
                    run(e, prompt, batch, 64); // warm-up
                    long t0 = System.nanoTime();
                    int n = run(e, prompt, batch, 128);
                    double tps = n / ((System.nanoTime() - t0) / 1e9);
                    if (batch == 1) base = tps;
                    double rate = tps * flopsPerRow(cp.config(), prompt.length + 64) / 1e9;
                    if (batch == 16) {
                        ours.put("batch 16 tok/s", tps);
                        gflops.put("batch 16", rate);
                    }
                    System.out.printf(
                            "batched batch=%d: %.1f tok/s (%.2fx batch 1), %.1f GFLOP/s = %.0f %% of peak FMA%n",
                            batch, tps, tps / base, rate, 100 * rate / limits.peakGflops());
                }
            }
        }
        if (what.equals("all") || what.equals("prefill")) {
            try (InProcessEngine e = new InProcessEngine(cp, ENGINE)) {
                int len = 128;
                int[] long128 = new int[len];
                for (int i = 0; i < len; i++) long128[i] = prompt[i % prompt.length];
                long best = Long.MAX_VALUE;
                // run alone (`prefill`), nothing before has compiled the kernels: its first prefills took 97 ms
                for (int i = 0; i < WARM_PREFILLS + 5; i++) {
                    long t0 = System.nanoTime();
                    e.generate(new GenerationRequest(
                            long128, 1, SamplingParams.greedy(1).withIgnoreEos(true)));
                    if (i >= WARM_PREFILLS) best = Math.min(best, System.nanoTime() - t0);
                }
                double flops = 0;
                for (int p = 0; p < len; p++) flops += flopsPerRow(cp.config(), p) - lmHeadFlops(cp.config());
                flops += lmHeadFlops(cp.config());
                double rate = flops / (best / 1e9) / 1e9;
                ours.put("prefill 128 tok/s", len / (best / 1e9));
                gflops.put("128-token prefill", rate);
                System.out.printf(
                        "prefill %d tokens: %.1f ms (%.0f tok/s), %.1f GFLOP/s = %.0f %% of peak FMA (best of 5)%n",
                        len, best / 1e6, len / (best / 1e9), rate, 100 * rate / limits.peakGflops());
            }
        }
        if (what.equals("all") || what.equals("llama")) llamaCpp(dir, dtype, prompt, ours);
        if (what.equals("all") || what.equals("update")) {
            try (InProcessEngine e = new InProcessEngine(cp, ENGINE)) {
                Map<String, Tensor> fresh = Checkpoint.randomTensors(cp.config(), 99);
                long bestCopy = Long.MAX_VALUE, bestUpdate = Long.MAX_VALUE;
                for (int i = 0; i < 5; i++) {
                    long t0 = System.nanoTime();
                    Map<String, Tensor> copy = new LinkedHashMap<>();
                    for (Tensor t : fresh.values())
                        copy.put(
                                t.name(),
                                new Tensor(t.name(), t.shape(), t.data().clone()));
                    bestCopy = Math.min(bestCopy, System.nanoTime() - t0);
                    // what a trainer hands over is a fresh map of arrays; the engine validates and installs it
                    t0 = System.nanoTime();
                    e.updateWeights(copy);
                    bestUpdate = Math.min(bestUpdate, System.nanoTime() - t0);
                }
                System.out.printf(
                        "weight update (full, %d params): install %.3f ms, one copy of the weights %.3f ms, ratio %.3f%n",
                        cp.weights().parameterCount(),
                        bestUpdate / 1e6,
                        bestCopy / 1e6,
                        (double) bestUpdate / bestCopy);
            }
        }
        if (!ours.isEmpty()) againstTheBestLimits(limits, weightBytes, ours, gflops);
        System.exit(0);
    }

    /**
     * The limits measured again after the figures, and every figure as a fraction of the better of the two: a limit
     * read in a slow phase put single stream at 119 % of its read bound.
     */
    private static void againstTheBestLimits(
            MachineLimits before, long weightBytes, Map<String, Double> ours, Map<String, Double> gflops)
            throws Exception {
        MachineLimits after = MachineLimits.measure(), best = before.best(after);
        System.out.println("after the figures, " + after.describe());
        System.out.println("against the better of both, " + best.describe() + ":");
        Double single = ours.get("single-stream tok/s");
        if (single != null)
            System.out.printf(
                    "  single stream: %.0f %% of the read bound %.1f tok/s%n",
                    100 * single / best.tokensPerSecondBound(weightBytes), best.tokensPerSecondBound(weightBytes));
        gflops.forEach((figure, rate) -> System.out.printf(
                "  %s: %.0f %% of peak FMA (%.1f GFLOP/s)%n", figure, 100 * rate / best.peakGflops(), rate));
    }

    /** The benchmarks' checkpoint of this shape and type, made once (seed 0) and kept under target/models. */
    static Path checkpoint(String shape, DType dtype) throws Exception {
        Path dir = Path.of("target", "models", "bench-" + shape + "-" + dtype.torchName);
        if (!Files.exists(dir.resolve("model.safetensors")))
            Checkpoint.init(ModelShape.parse(shape, ModelConfig.Architecture.LLAMA), dir, 0, dtype);
        return dir;
    }

    /**
     * llama.cpp (node-llama-cpp) on the same checkpoint written as GGUF in the same type (float32 or bfloat16), on the
     * same cores: its single-stream, batch-16 and 128-token prefill rates beside ours.
     */
    static void llamaCpp(Path dir, DType dtype, int[] prompt, Map<String, Double> ours) {
        Path work = Path.of("target", "tmp", "llama-bench");
        try {
            Files.createDirectories(work);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Gguf.Type type = dtype == DType.F32 ? Gguf.Type.F32 : Gguf.Type.BF16;
        Path gguf = LlamaCpp.export(dir, type, work.resolve(dir.getFileName() + ".gguf"));
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("model", gguf.toAbsolutePath().toString());
        req.put("threads", Runtime.getRuntime().availableProcessors());
        req.put("prompts", List.of(prompt));
        req.put("max_tokens", 1);
        req.put(
                "bench",
                Map.of("single_tokens", 200, "batch", 16, "batch_tokens", 128, "prefill_tokens", 128, "reps", 3));
        var r = LlamaCpp.run(req, work, java.time.Duration.ofMinutes(10));
        Map<String, Double> theirs = Map.of(
                "single-stream tok/s", r.path("single_tok_s").asDouble(),
                "batch 16 tok/s", r.path("batch_tok_s").asDouble(),
                "prefill 128 tok/s", r.path("prefill_tok_s").asDouble());
        System.out.printf(
                "llama.cpp (node-llama-cpp 3.21.1, GGUF %s, %d threads), best of 3:%n",
                type, r.path("threads").asInt());
        System.out.println("| figure | rollout-lab " + dtype + " | llama.cpp " + type + " | ratio |");
        System.out.println("|---|---|---|---|");
        for (String k : theirs.keySet().stream().sorted().toList()) {
            Double o = ours.get(k);
            double t = theirs.get(k);
            System.out.printf(
                    "| %s | %s | %.1f | %s |%n",
                    k,
                    o == null ? "(not run)" : String.format("%.1f", o),
                    t,
                    o == null ? "" : String.format("%.2f", o / t));
        }
    }

    /** Floating-point operations of one row (token) at position {@code pos}: every matrix, attention, the head. */
    static double flopsPerRow(ModelConfig c, int pos) {
        long h = c.hiddenSize(),
                layer = h * c.qDim() + 2L * h * c.kvDim() + c.qDim() * h + 3L * h * c.intermediateSize();
        long attention = 2L * (pos + 1) * c.qDim();
        return 2.0 * c.numLayers() * (layer + attention) + lmHeadFlops(c);
    }

    static double lmHeadFlops(ModelConfig c) {
        return 2.0 * c.hiddenSize() * c.vocabSize();
    }

    static int run(InProcessEngine e, int[] prompt, int batch, int tokens) {
        List<CompletableFuture<Completion>> fs = new ArrayList<>();
        for (int i = 0; i < batch; i++) {
            fs.add(e.submit(
                    new GenerationRequest(
                            prompt, 1, SamplingParams.of(tokens, 1.0, (long) i).withIgnoreEos(true)),
                    TokenListener.NONE));
        }
        int n = 0;
        for (var f : fs) n += f.join().completionTokens();
        return n;
    }

    static double jlama(Path dir, int[] prompt, int tokens, String provider) {
        // the provider is chosen once per JVM, so each provider runs in its own child JVM
        if (!provider.equals(System.getProperty("bench.jlama"))) {
            try {
                List<String> cmd = new ArrayList<>(
                        List.of(ProcessHandle.current().info().command().orElse("java")));
                cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
                cmd.add("-Dbench.jlama=" + provider);
                if (provider.equals("panama")) cmd.add("-Djlama.force_panama_tensor_operations=true");
                cmd.addAll(List.of(
                        "-cp",
                        System.getProperty("java.class.path"),
                        JlamaOnly.class.getName(),
                        dir.toString(),
                        String.valueOf(tokens)));
                Process p = new ProcessBuilder(cmd)
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
                String out = new String(p.getInputStream().readAllBytes()).trim();
                p.waitFor();
                String[] lines = out.split("\n");
                return Double.parseDouble(lines[lines.length - 1]);
            } catch (Exception ex) {
                throw new RuntimeException(ex);
            }
        }
        return 0;
    }

    /** Child-JVM entry: prints Jlama's best-of-3 single-stream tok/s. */
    public static final class JlamaOnly {
        public static void main(String[] args) {
            Path dir = Path.of(args[0]);
            int tokens = Integer.parseInt(args[1]);
            Checkpoint cp = Checkpoint.load(dir);
            int[] prompt = cp.tokenizer().encode("Once upon a time there was a little model");
            AbstractModel m = ModelSupport.loadModel(
                    dir.toFile(),
                    com.github.tjake.jlama.safetensors.DType.F32,
                    com.github.tjake.jlama.safetensors.DType.F32);
            double best = 0;
            for (int r = 0; r < 6; r++) {
                try (KvBufferCache cache = new KvBufferCache(m)) {
                    KvBufferCache.KvBuffer kv = cache.getEphemeralKvBuffer();
                    long t0 = System.nanoTime();
                    AbstractTensor out = m.batchForward(prompt, 0, kv);
                    AbstractTensor last = out.slice(out.shape().first() - 1);
                    int pos = prompt.length;
                    for (int i = 0; i < tokens; i++) {
                        float[] probs = m.getLogits(last);
                        int next = 0;
                        for (int j = 1; j < probs.length; j++) if (probs[j] > probs[next]) next = j;
                        last = m.forward(next, pos++, kv, Optional.empty());
                    }
                    if (r >= 3) best = Math.max(best, tokens / ((System.nanoTime() - t0) / 1e9));
                }
            }
            System.out.println(best);
            System.exit(0);
        }
    }
}
