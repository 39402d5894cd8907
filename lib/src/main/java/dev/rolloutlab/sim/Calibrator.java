package dev.rolloutlab.sim;

import dev.rolloutlab.engine.TimingModel;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Fits a {@link TimingModel} to a running OpenAI server (ours, sglang-jax, vLLM): single streamed requests of growing
 * prompts give the prefill line (time to first token against prompt tokens), and streams decoded together at growing
 * batch sizes and two prompt lengths give the decode plane (time per token against batch and context).
 * Both are what the client sees, so a request's work outside the engine (HTTP, JSON, tokenising, sampling) is in
 * {@code a} and {@code c} and is shared like a step when engines contend, as it is on a real host; a simulated server
 * adds its own such work once more, uncontended (about 0.7 ms a request on the machine of docs/benchmarks.md).
 * Both lines are measured on the first port alone; with several ports of one host, sustained load on all of them
 * against the fitted time alone gives how many engines the host runs at full speed.
 */
public final class Calibrator {
    /** One measured point of a fit. */
    public record Point(String kind, int batch, int promptTokens, double x, double ms) {
    }

    /** The fitted profile and the points behind it. */
    public record Result(Profile profile, List<Point> points) {
    }

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

    /** Measures and fits; {@code maxContext} bounds the prompts, {@code maxBatch} the largest batch tried and the profile's cap. */
    public Result run(String name, int maxContext, int maxBatch, int reps) {
        List<Point> points = new ArrayList<>();
        int top = Math.max(32, Math.min(512, maxContext - 64));
        int[] lens = {16, top / 4, top / 2, 3 * top / 4, top};
        List<Integer> batches = new ArrayList<>();
        for (int b = 1; b <= maxBatch && b <= 32; b *= 2) batches.add(b);
        warmUp(lens, batches, top / 2);
        for (int len : lens) {
            List<OpenAiClient.Result> rs = new ArrayList<>();
            for (int r = 0; r < 2 * reps; r++) rs.addAll(one(clients.subList(0, 1), len, 1, r)); // single requests are cheap: twice the repetitions steady a
            points.add(new Point("prefill", 1, len, len, median(ttft(rs))));
            log.printf("  prefill  %4d prompt tokens: %.2f ms to the first token%n", len, points.getLast().ms());
        }
        for (int len : new int[]{16, top / 2}) {
            for (int b : batches) {
                List<OpenAiClient.Result> rs = new ArrayList<>();
                for (int r = 0; r < reps; r++) rs.addAll(batch(clients.subList(0, 1), b, len));
                double step = median(steps(rs));
                points.add(new Point("decode", b, len, len + DECODE_TOKENS / 2.0, step));
                log.printf("  decode   batch %2d, %4d prompt tokens: %.2f ms per step%n", b, len, step);
            }
        }
        double[][] px = points.stream().filter(p -> p.kind().startsWith("prefill")).map(p -> new double[]{1, p.x()}).toArray(double[][]::new);
        double[] py = points.stream().filter(p -> p.kind().startsWith("prefill")).mapToDouble(Point::ms).toArray();
        double[][] dx = points.stream().filter(p -> p.kind().equals("decode")).map(p -> new double[]{1, p.batch(), p.x()}).toArray(double[][]::new);
        double[] dy = points.stream().filter(p -> p.kind().equals("decode")).mapToDouble(Point::ms).toArray();
        LeastSquares.Fit pre = LeastSquares.fitRelative(px, py), dec = LeastSquares.fitRelative(dx, dy);
        TimingModel alone = new TimingModel(Math.max(0, pre.beta()[0]), Math.max(0, pre.beta()[1]), Math.max(0, dec.beta()[0]), Math.max(0, dec.beta()[1]),
                Math.max(0, dec.beta()[2]), maxBatch);
        double decodes = clients.size() > 1 ? fullSpeedDecodes(points, reps, lens[1], alone) : 0;
        double prefills = clients.size() > 1 ? fullSpeedPrefills(points, reps, lens[1], alone) : 0;
        pool.close();
        TimingModel m = new TimingModel(alone.a(), alone.b(), alone.c(), alone.d(), alone.e(), maxBatch, decodes, prefills);
        Profile p = new Profile(name, m, pre.r2(), dec.r2(), "sim calibrate", target, java.time.Instant.now().toString());
        return new Result(p, points);
    }

    /**
     * Requests one after another on every port at once (sustained, as a benchmark loads them), their time per output
     * token after the first against the fitted decode step alone: n engines that slow each other by R run n / R at
     * full speed, and the model then reproduces this measurement. Whole streams, so the neighbours' prefills and the
     * growing context weigh as they do in a benchmark (the middle of each stream gave 12.6 ms a step where
     * {@code compare} measured 13.9 to 15.4). The prompts are short ones of the fitted range: a neighbour's longer
     * prefill slows decoding more (64-token prompts gave 16.9 ms). One-shot bursts measured less contention than
     * sustained load does (1.6 against 1.0 engines at full speed for prefills here), so both are loops.
     */
    private double fullSpeedDecodes(List<Point> points, int reps, int len, TimingModel alone) {
        double context = len + DECODE_TOKENS / 2.0;
        double together = median(loops(clients, len, DECODE_TOKENS, reps).stream()
                .mapToDouble(r -> ms(r.endNs() - r.firstTokenNs()) / (r.completionTokens() - 1)).toArray());
        points.add(new Point("decode-all-ports-sustained", 1, len, context, together));
        return fullSpeed("decode   " + len + "-token prompts", alone.stepNanos(0, 1, context) / 1e6, together);
    }

    /** The same for prefills of {@code len} tokens. */
    private double fullSpeedPrefills(List<Point> points, int reps, int len, TimingModel alone) {
        double together = median(ttft(loops(clients, len, 1, 4 * reps)));
        points.add(new Point("prefill-all-ports-sustained", 1, len, len, together));
        return fullSpeed("prefill  " + len + " tokens", alone.stepNanos(len, 0, 0) / 1e6, together);
    }

    private double fullSpeed(String what, double alone, double together) {
        int n = clients.size();
        double slowdown = together / alone;
        // below 1 when n steps together take more than n times as long as one (more threads than cores)
        double k = slowdown < 1.1 ? 0 : Math.max(0.1, Math.min(n, n / slowdown));
        log.printf("  %s, sustained on all %d ports at once: %.2f ms (%.2fx the fit alone): %s%n", what, n, together, slowdown,
                k == 0 ? "no contention" : String.format(java.util.Locale.ROOT, "%.2f at full speed at once", k));
        return k;
    }

    private static final int DECODE_TOKENS = 32, WARMUP = 200;

    /**
     * A fresh server JVM answers its first hundreds of requests slower (JIT), and a prompt length it has not seen yet
     * slower again (a 112-token prefill measured 77 ms cold and 53 ms warm): that is not the engine's time.
     */
    private void warmUp(int[] lens, List<Integer> batches, int topLen) {
        for (int i = 0; i < WARMUP; i++) one(clients, 16, 1, i);
        for (int len : lens) for (int i = 0; i < 5; i++) one(clients, len, 2, i);
        for (int b : batches) for (int len : new int[]{16, topLen}) batch(clients.subList(0, 1), b, len);
    }

    /** Each of {@code on} sends {@code count} streamed requests one after another, all of them at once. */
    private List<OpenAiClient.Result> loops(List<OpenAiClient> on, int promptTokens, int maxTokens, int count) {
        List<CompletableFuture<List<OpenAiClient.Result>>> fs = new ArrayList<>();
        for (OpenAiClient c : on) {
            fs.add(CompletableFuture.supplyAsync(() -> {
                List<OpenAiClient.Result> rs = new ArrayList<>();
                for (int i = 0; i < count; i++) rs.add(checked(c.complete(request(promptTokens, maxTokens, i))));
                return rs;
            }, pool));
        }
        // the first and last of each loop overlap less with the others: the middle is the sustained state
        List<OpenAiClient.Result> out = new ArrayList<>();
        for (var f : fs) {
            List<OpenAiClient.Result> rs = f.join();
            out.addAll(rs.subList(count / 4, count - count / 4));
        }
        return out;
    }

    private static double[] ttft(List<OpenAiClient.Result> rs) {
        return rs.stream().mapToDouble(x -> ms(x.firstTokenNs() - x.sentNs())).toArray();
    }

    /**
     * Each stream's mean time per token over its middle half, where every sequence of a batch is decoding. A mean,
     * not the median gap: the occasional long gap (another engine's prefill, a collection) costs throughput too,
     * and the median of gaps put 4 contending engines at 12.8 ms a step where requests took 15.
     */
    private static double[] steps(List<OpenAiClient.Result> rs) {
        return rs.stream().mapToDouble(r -> {
            long[] t = r.chunkNs();
            int lo = t.length / 4, hi = 3 * t.length / 4;
            return ms(t[hi] - t[lo]) / (hi - lo);
        }).toArray();
    }

    private static OpenAiClient.Result checked(OpenAiClient.Result r) {
        if (!r.ok()) throw new IllegalStateException("calibration request failed: " + r.status() + " " + r.error());
        return r;
    }

    /** One streamed request on each of {@code on} at once (alone on each engine). */
    private List<OpenAiClient.Result> one(List<OpenAiClient> on, int promptTokens, int maxTokens, int seed) {
        List<CompletableFuture<OpenAiClient.Result>> fs = new ArrayList<>();
        for (OpenAiClient c : on) fs.add(CompletableFuture.supplyAsync(() -> c.complete(request(promptTokens, maxTokens, seed)), pool));
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
        int[] ids = new int[promptTokens];
        for (int i = 0; i < ids.length; i++) ids[i] = 10 + (i * 7 + seed) % 200;
        return CompletionRequest.completion(model, ids, maxTokens, 1.0).withSampling(1, (long) seed, true).withStream(true, true);
    }

    private static double ms(long ns) {
        return ns / 1e6;
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length == 0 ? Double.NaN : s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
