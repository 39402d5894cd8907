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
 * batch sizes and two prompt lengths give the decode plane (median gap between tokens against batch and context).
 * The prefill line uses the engine's own time where the server reports it ({@code Server-Timing}, ours); elsewhere
 * what the client and the network add lands in {@code a}. Both are measured on the first port alone; with several
 * ports of one host, the same decode steps on all of them at once give how many engines the host runs at full speed.
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
        warmUp();
        for (int len : lens) {
            List<Double> ttft = new ArrayList<>();
            boolean engineTimed = true;
            for (int r = 0; r < reps; r++) {
                for (OpenAiClient.Result x : one(clients.subList(0, 1), len, 2, r)) {
                    // the engine's own prefill time where the server reports it (ours, in Server-Timing), else what the client
                    // sees: a simulated server adds its own HTTP time, so a client-side figure would count that twice
                    double engine = x.serverTimings().prefillMs();
                    engineTimed &= !Double.isNaN(engine);
                    ttft.add(Double.isNaN(engine) ? ms(x.firstTokenNs() - x.sentNs()) : engine);
                }
            }
            points.add(new Point(engineTimed ? "prefill" : "prefill-client", 1, len, len, median(ttft.stream().mapToDouble(Double::doubleValue).toArray())));
            log.printf("  prefill  %4d prompt tokens: %.2f ms (%s)%n", len, points.getLast().ms(),
                    engineTimed ? "the server's Server-Timing" : "time to first token at the client");
        }
        List<Integer> batches = new ArrayList<>();
        for (int b = 1; b <= maxBatch && b <= 32; b *= 2) batches.add(b);
        for (int len : new int[]{16, top / 2}) {
            for (int b : batches) {
                List<Double> gaps = new ArrayList<>();
                for (int r = 0; r < reps; r++) gaps.addAll(batch(clients.subList(0, 1), b, len));
                double step = median(gaps.stream().mapToDouble(Double::doubleValue).toArray());
                points.add(new Point("decode", b, len, len + DECODE_TOKENS / 2.0, step));
                log.printf("  decode   batch %2d, %4d prompt tokens: %.2f ms per step%n", b, len, step);
            }
        }
        double[][] px = points.stream().filter(p -> p.kind().startsWith("prefill")).map(p -> new double[]{1, p.x()}).toArray(double[][]::new);
        double[] py = points.stream().filter(p -> p.kind().startsWith("prefill")).mapToDouble(Point::ms).toArray();
        double[][] dx = points.stream().filter(p -> p.kind().equals("decode")).map(p -> new double[]{1, p.batch(), p.x()}).toArray(double[][]::new);
        double[] dy = points.stream().filter(p -> p.kind().equals("decode")).mapToDouble(Point::ms).toArray();
        LeastSquares.Fit pre = LeastSquares.fitRelative(px, py), dec = LeastSquares.fitRelative(dx, dy);
        double decodes = clients.size() > 1 ? fullSpeedDecodes(points, reps, Math.min(4, batches.getLast())) : 0;
        double prefills = clients.size() > 1 ? fullSpeedPrefills(points, reps, lens[1]) : 0;
        pool.close();
        TimingModel m = new TimingModel(Math.max(0, pre.beta()[0]), Math.max(0, pre.beta()[1]), Math.max(0, dec.beta()[0]), Math.max(0, dec.beta()[1]),
                Math.max(0, dec.beta()[2]), maxBatch, decodes, prefills);
        Profile p = new Profile(name, m, pre.r2(), dec.r2(), "sim calibrate", target, java.time.Instant.now().toString());
        return new Result(p, points);
    }

    /**
     * Decode steps on every port at once against the same steps alone: n engines that slow each other by R run
     * n / R at full speed. No measurable slowdown (under 10 %) means they do not contend (0).
     */
    private double fullSpeedDecodes(List<Point> points, int reps, int b) {
        double alone = points.stream().filter(p -> p.kind().equals("decode") && p.batch() == b && p.promptTokens() == 16).mapToDouble(Point::ms).findFirst().orElseThrow();
        List<Double> gaps = new ArrayList<>();
        for (int r = 0; r < reps; r++) gaps.addAll(batch(clients, b, 16));
        double together = median(gaps.stream().mapToDouble(Double::doubleValue).toArray());
        points.add(new Point("decode-all-ports", b, 16, 16 + DECODE_TOKENS / 2.0, together));
        return fullSpeed("decode   batch " + b, alone, together);
    }

    /** The same for prefills of {@code len} tokens: they parallelise differently from decode steps. */
    private double fullSpeedPrefills(List<Point> points, int reps, int len) {
        Point alone = points.stream().filter(p -> p.kind().startsWith("prefill") && p.promptTokens() == len).findFirst().orElseThrow();
        List<Double> ms = new ArrayList<>();
        for (int r = 0; r < reps; r++) {
            for (OpenAiClient.Result x : one(clients, len, 2, r)) {
                double engine = x.serverTimings().prefillMs();
                ms.add(alone.kind().equals("prefill") && !Double.isNaN(engine) ? engine : ms(x.firstTokenNs() - x.sentNs()));
            }
        }
        double together = median(ms.stream().mapToDouble(Double::doubleValue).toArray());
        points.add(new Point(alone.kind() + "-all-ports", 1, len, len, together));
        return fullSpeed("prefill  " + len + " tokens", alone.ms(), together);
    }

    private double fullSpeed(String what, double alone, double together) {
        int n = clients.size();
        double slowdown = together / alone;
        // below 1 when n steps together take more than n times as long as one (more threads than cores)
        double k = slowdown < 1.1 ? 0 : Math.max(0.1, Math.min(n, n / slowdown));
        log.printf("  %s on all %d ports at once: %.2f ms (%.2fx alone): %s%n", what, n, together, slowdown,
                k == 0 ? "no contention" : String.format(java.util.Locale.ROOT, "%.2f at full speed at once", k));
        return k;
    }

    private static final int DECODE_TOKENS = 32, WARMUP = 200;

    /** A fresh server JVM answers its first hundreds of requests slower (JIT): that is not the engine's time. */
    private void warmUp() {
        for (int i = 0; i < WARMUP; i++) one(clients, 16, 1, i);
    }

    /** One streamed request on each of {@code on} at once (alone on each engine). */
    private List<OpenAiClient.Result> one(List<OpenAiClient> on, int promptTokens, int maxTokens, int seed) {
        List<CompletableFuture<OpenAiClient.Result>> fs = new ArrayList<>();
        for (OpenAiClient c : on) fs.add(CompletableFuture.supplyAsync(() -> c.complete(request(promptTokens, maxTokens, seed)), pool));
        List<OpenAiClient.Result> out = new ArrayList<>();
        for (var f : fs) {
            OpenAiClient.Result r = f.join();
            if (!r.ok()) throw new IllegalStateException("calibration request failed: " + r.status() + " " + r.error());
            out.add(r);
        }
        return out;
    }

    /** {@code b} streams started together on each of {@code on}; the gaps between their tokens, after the first. */
    private List<Double> batch(List<OpenAiClient> on, int b, int len) {
        List<CompletableFuture<OpenAiClient.Result>> fs = new ArrayList<>();
        for (OpenAiClient c : on) {
            for (int i = 0; i < b; i++) {
                int seed = i;
                fs.add(CompletableFuture.supplyAsync(() -> c.complete(request(len, DECODE_TOKENS, seed)), pool));
            }
        }
        List<Double> gaps = new ArrayList<>();
        for (var f : fs) {
            OpenAiClient.Result r = f.join();
            if (!r.ok()) throw new IllegalStateException("calibration request failed: " + r.status() + " " + r.error());
            long[] t = r.chunkNs();
            // the middle of the stream: all b sequences are decoding together there, none is still being admitted
            for (int i = t.length / 4 + 1; i < 3 * t.length / 4; i++) gaps.add(ms(t[i] - t[i - 1]));
        }
        return gaps;
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
