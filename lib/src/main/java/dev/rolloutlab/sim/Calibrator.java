package dev.rolloutlab.sim;

import static dev.rolloutlab.results.Percentiles.median;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fits a {@link TimingModel} to a running OpenAI server (ours, sglang-jax, vLLM): single streamed requests of growing
 * prompts give the prefill line (time to first token against prompt tokens), and streams decoded together at growing
 * batch sizes and two prompt lengths give the decode plane (time per token against batch and context). Both are what
 * the client sees, so a request's work outside the engine (HTTP, JSON, tokenising, sampling) is in {@code a} and
 * {@code c} and is shared like a step when engines contend, as it is on a real host. Both lines are measured on the
 * first port alone; then {@link HostFit} takes out what a simulated server adds itself and, with several ports of one
 * host, fits how their engines slow each other, until a simulated host reproduces this one.
 */
public final class Calibrator {
    /** One measured point of a fit. */
    private record Point(String kind, int batch, int promptTokens, double x, double ms) {}

    private final List<OpenAiClient> clients;
    private final String target;
    private final String model;
    private final PrintStream log;
    private final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();

    public Calibrator(List<OpenAiClient> clients, String target, String model, PrintStream log) {
        this.clients = clients;
        this.target = target;
        this.model = model;
        this.log = log;
    }

    /**
     * Measures and fits; {@code maxContext} bounds the prompts, {@code maxBatch} the largest batch tried and the
     * profile's cap.
     */
    public Profile run(String name, int maxContext, int maxBatch, int reps) {
        List<Point> points = new ArrayList<>();
        int top = Math.max(32, Math.min(512, maxContext - 64));
        int[] lens = {SHORTEST, top / 4, top / 2, 3 * top / 4, top};
        List<Integer> batches = new ArrayList<>();
        for (int b = 1; b <= maxBatch && b <= 32; b *= 2) batches.add(b);
        HostProbe probe = new HostProbe(SHORTEST, top, 4 * reps, pool);
        warmUp(probe, lens, batches, top);
        // each repetition visits every length (and every batch) once, in turn: a slow spell of the machine then
        // reaches all points alike instead of bending the line where it fell (one calibration read 42.7 ms at 96
        // tokens and 41.2 ms at 128 when each length ran its repetitions in one block)
        List<List<OpenAiClient.Result>> prefills = new ArrayList<>();
        for (int len : lens) prefills.add(new ArrayList<>());
        for (int r = 0; r < 2 * reps; r++) // single requests are cheap: twice the repetitions steady a median
        for (int i = 0; i < lens.length; i++) prefills.get(i).addAll(one(clients.subList(0, 1), lens[i], 1, r));
        for (int i = 0; i < lens.length; i++) {
            points.add(new Point("prefill", 1, lens[i], lens[i], median(ttft(prefills.get(i)))));
            log.printf(
                    "  prefill  %4d prompt tokens: %.2f ms to the first token%n",
                    lens[i], points.getLast().ms());
        }
        // the context term is small beside the batch term: the widest prompt range measures it (16 and 64 tokens put
        // e anywhere from 0 to 0.017 ms a token between calibrations, and contention multiplies it)
        int[] contexts = {SHORTEST, top};
        List<List<OpenAiClient.Result>> decodes = new ArrayList<>();
        for (int i = 0; i < contexts.length * batches.size(); i++) decodes.add(new ArrayList<>());
        for (int r = 0; r < reps; r++) {
            for (int c = 0; c < contexts.length; c++) {
                for (int b = 0; b < batches.size(); b++)
                    decodes.get(c * batches.size() + b)
                            .addAll(batch(clients.subList(0, 1), batches.get(b), contexts[c]));
            }
        }
        for (int c = 0; c < contexts.length; c++) {
            for (int b = 0; b < batches.size(); b++) {
                double step = median(steps(decodes.get(c * batches.size() + b)));
                points.add(new Point("decode", batches.get(b), contexts[c], contexts[c] + DECODE_TOKENS / 2.0, step));
                log.printf(
                        "  decode   batch %2d, %4d prompt tokens: %.2f ms per step%n",
                        batches.get(b), contexts[c], step);
            }
        }
        double[][] px = points.stream()
                .filter(p -> p.kind().startsWith("prefill"))
                .map(p -> new double[] {1, p.x()})
                .toArray(double[][]::new);
        double[] py = points.stream()
                .filter(p -> p.kind().startsWith("prefill"))
                .mapToDouble(Point::ms)
                .toArray();
        double[][] dx = points.stream()
                .filter(p -> p.kind().equals("decode"))
                .map(p -> new double[] {1, p.batch(), p.x()})
                .toArray(double[][]::new);
        double[] dy = points.stream()
                .filter(p -> p.kind().equals("decode"))
                .mapToDouble(Point::ms)
                .toArray();
        LeastSquares.Fit pre = LeastSquares.fitRelative(px, py), dec = LeastSquares.fitRelative(dx, dy);
        TimingModel alone = new TimingModel(
                Math.max(0, pre.beta()[0]),
                Math.max(0, pre.beta()[1]),
                Math.max(0, dec.beta()[0]),
                Math.max(0, dec.beta()[1]),
                Math.max(0, dec.beta()[2]),
                maxBatch);
        HostFit.Fitted m = new HostFit(probe, log).fit(clients, model, alone);
        log.printf(
                "  max batch %d: the --max-batch given, not measured (batches up to %d were); the host may take more%n",
                maxBatch, batches.getLast());
        pool.close();
        return new Profile(
                name,
                m.model(),
                pre.r2(),
                dec.r2(),
                "sim calibrate",
                target,
                Instant.now().toString(),
                new Profile.Calibrated(loaded(m.host()), loaded(m.simulated())));
    }

    /**
     * The shortest prompt fitted, and the one contention is measured at: the shortest prefills are mostly the request's
     * fixed work, which contends differently from the work per token (fitting from 16 tokens put a workload of 8-token
     * prompts 20 % fast under contention).
     */
    private static final int SHORTEST = 8;

    private static final int DECODE_TOKENS = HostProbe.STREAM_TOKENS;
    private static final double WARMUP_MAX_SECONDS = 90;

    /**
     * A fresh server JVM answers its first thousands of requests slower (JIT), and a prompt length it has not seen yet
     * slower again (a 112-token prefill measured 77 ms cold and 53 ms warm): that is not the engine's time.
     */
    private void warmUp(HostProbe probe, int[] lens, List<Integer> batches, int topLen) {
        log.println("  warm-up " + probe.warm(clients, model, 2.5, WARMUP_MAX_SECONDS));
        for (int len : lens) for (int i = 0; i < 5; i++) one(clients, len, 2, i);
        for (int b : batches) for (int len : new int[] {SHORTEST, topLen}) batch(clients.subList(0, 1), b, len);
    }

    private static Profile.Loaded loaded(HostMeasurement m) {
        return new Profile.Loaded(
                m.ttftBesidePrefills(), m.ttftLongBesidePrefills(), m.tpot(), m.tpotLong(), m.ttftBesideDecodes());
    }

    static double[] ttft(List<OpenAiClient.Result> rs) {
        return rs.stream().mapToDouble(x -> ms(x.firstTokenNs() - x.sentNs())).toArray();
    }

    /**
     * Each stream's mean time per token over its middle half, where every sequence of a batch is decoding. A mean, not
     * the median gap: the occasional long gap (another engine's prefill, a collection) costs throughput too, and the
     * median of gaps put 4 contending engines at 12.8 ms a step where requests took 15.
     */
    private static double[] steps(List<OpenAiClient.Result> rs) {
        return rs.stream()
                .mapToDouble(r -> {
                    long[] t = r.chunkNs();
                    int lo = t.length / 4, hi = 3 * t.length / 4;
                    return ms(t[hi] - t[lo]) / (hi - lo);
                })
                .toArray();
    }

    static OpenAiClient.Result checked(OpenAiClient.Result r) {
        if (!r.ok()) throw new IllegalStateException("calibration request failed: " + r.status() + " " + r.error());
        return r;
    }

    /** One streamed request on each of {@code on} at once (alone on each engine). */
    private List<OpenAiClient.Result> one(List<OpenAiClient> on, int promptTokens, int maxTokens, int seed) {
        List<CompletableFuture<OpenAiClient.Result>> fs = new ArrayList<>();
        for (OpenAiClient c : on)
            fs.add(CompletableFuture.supplyAsync(() -> c.complete(request(promptTokens, maxTokens, seed)), pool));
        List<OpenAiClient.Result> out = new ArrayList<>();
        for (var f : fs) out.add(checked(f.join()));
        return out;
    }

    /** {@code b} streams started together on each of {@code on}. */
    private List<OpenAiClient.Result> batch(List<OpenAiClient> on, int b, int len) {
        List<CompletableFuture<OpenAiClient.Result>> fs = new ArrayList<>();
        for (OpenAiClient c : on) {
            for (int i = 0; i < b; i++) {
                int seed = i;
                fs.add(CompletableFuture.supplyAsync(() -> c.complete(request(len, DECODE_TOKENS, seed)), pool));
            }
        }
        List<OpenAiClient.Result> out = new ArrayList<>();
        for (var f : fs) out.add(checked(f.join()));
        return out;
    }

    private CompletionRequest request(int promptTokens, int maxTokens, int seed) {
        return request(model, promptTokens, maxTokens, seed);
    }

    /** Numbers every calibration prompt, so no two share a prefix. */
    private static final AtomicLong PROMPTS = new AtomicLong();

    /**
     * A streamed request of {@code promptTokens} ids no earlier calibration request began with: a server's prefix cache
     * would otherwise serve the repeats, and the fit would read its lookups as prefill.
     */
    static CompletionRequest request(String model, int promptTokens, int maxTokens, int seed) {
        int[] ids = new int[promptTokens];
        SplittableRandom r = new SplittableRandom(PROMPTS.incrementAndGet() * 0x9E3779B97F4A7C15L);
        for (int i = 0; i < ids.length; i++) ids[i] = 10 + r.nextInt(200);
        return CompletionRequest.completion(model, ids, maxTokens, 1.0)
                .withSampling(1, (long) seed, true)
                .withStream(true, true);
    }

    static double ms(long ns) {
        return ns / 1e6;
    }
}
