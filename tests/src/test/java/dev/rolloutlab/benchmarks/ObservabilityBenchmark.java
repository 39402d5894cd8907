package dev.rolloutlab.benchmarks;

import static dev.rolloutlab.results.Percentiles.median;

import dev.rolloutlab.bench.LengthDist;
import dev.rolloutlab.bench.LoadGenerator;
import dev.rolloutlab.bench.Target;
import dev.rolloutlab.bench.Workload;
import dev.rolloutlab.engine.model.DefaultModels;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ChildJvm;
import dev.rolloutlab.process.CpuTime;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Summary;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.Ports;
import dev.rolloutlab.util.SpanLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import okhttp3.OkHttpClient;

/**
 * What observing a run costs, for docs/benchmarks.md (not a test). {@code tests/bench observability [blocks]}: two
 * stacks started alike (serve with two ports behind an lb, the default grid's model), one with {@code --trace} on serve
 * and lb and the client's spans, one without; blocks of the same requests alternate between them, and each block's CPU
 * time per request in serve, lb and the client is read from /proc, which the hypervisor's stolen time and the machine's
 * phases move far less than throughput. Then scraping: CPU per {@code /metrics} scrape of serve and lb, and what one
 * scrape a second of every server takes of the machine.
 */
public final class ObservabilityBenchmark {
    private static final int IN = 128, OUT = 32, CONCURRENCY = 4, PER_BLOCK = 48;

    private record Stack(ChildJvm serve, ChildJvm lb, String lbUrl, List<String> ports) {}

    private record Block(double serveMs, double lbMs, double clientMs, double tokPerS) {}

    public static void main(String[] args) throws Exception {
        int blocks = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        Path work =
                Files.createDirectories(Path.of("target", "bench-observability").toAbsolutePath());
        String shape =
                dev.rolloutlab.compare.CompareConfig.defaults(false).build().shape();
        Path model = DefaultModels.ensure(shape);
        System.out.printf(
                "machine: %d cores, java %s; model %s; in=%d out=%d, concurrency %d, %d requests a block, %d blocks"
                        + " each%n",
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"),
                shape,
                IN,
                OUT,
                CONCURRENCY,
                PER_BLOCK,
                blocks);
        OkHttpClient http = OpenAiClient.http(64, Duration.ofSeconds(300));
        Path trace = work.resolve("trace");
        try (SpanLog clientSpans = SpanLog.open(trace.resolve("client.jsonl"), "client")) {
            Stack plain = stack(model, work, "plain", null);
            Stack traced = stack(model, work, "traced", trace);
            try {
                Target toPlain = Target.http(new OpenAiClient(http, plain.lbUrl(), null, true));
                Target toTraced = Target.http(new OpenAiClient(http, traced.lbUrl(), null, true));
                // one block each first, unrecorded: both JVMs pass their JIT warm-up before anything counts
                block(plain, toPlain, SpanLog.OFF, 0);
                block(traced, toTraced, clientSpans, 0);
                List<Block> a = new ArrayList<>(), b = new ArrayList<>();
                for (int i = 0; i < blocks; i++) { // ABBA order: a drift of the machine meets both alike
                    boolean plainFirst = i % 2 == 0;
                    if (plainFirst) a.add(block(plain, toPlain, SpanLog.OFF, i + 1));
                    b.add(block(traced, toTraced, clientSpans, i + 1));
                    if (!plainFirst) a.add(block(plain, toPlain, SpanLog.OFF, i + 1));
                    System.err.printf("block %d/%d done%n", i + 1, blocks);
                }
                report(a, b);
                spanCost(trace, work, a.size() * PER_BLOCK + PER_BLOCK);
                scrapeCost(http, traced);
            } finally {
                close(plain);
                close(traced);
            }
        }
    }

    private static Stack stack(Path model, Path work, String name, Path trace) {
        List<Integer> ports = Ports.free(3);
        List<String> serveArgs = new ArrayList<>(List.of(
                "--model",
                model.toString(),
                "--num-servers",
                "2",
                "--ports",
                ports.get(0) + "," + ports.get(1),
                "--prefix-cache-mb",
                "0",
                "--ready-file",
                work.resolve(name + "-serve.json").toString()));
        if (trace != null)
            serveArgs.addAll(List.of("--trace", trace.resolve("serve.jsonl").toString()));
        ChildJvm serve = ChildJvm.start("serve", serveArgs, work.resolve(name + "-serve.log"));
        serve.awaitReadyFile(work.resolve(name + "-serve.json"), Duration.ofSeconds(120));
        List<String> urls = List.of("http://127.0.0.1:" + ports.get(0), "http://127.0.0.1:" + ports.get(1));
        List<String> lbArgs = new ArrayList<>(List.of(
                "--listen-port",
                String.valueOf(ports.get(2)),
                "--backends",
                String.join(",", urls),
                "--policy",
                "least-load",
                "--quiet"));
        if (trace != null)
            lbArgs.addAll(List.of("--trace", trace.resolve("lb.jsonl").toString()));
        ChildJvm lb = ChildJvm.start("lb", lbArgs, work.resolve(name + "-lb.log"));
        String lbUrl = "http://127.0.0.1:" + ports.get(2);
        OpenAiClient probe = new OpenAiClient(OpenAiClient.http(1, Duration.ofSeconds(5)), lbUrl, null, true);
        if (!Await.until(() -> probe.get("/health").status() == 200, Duration.ofSeconds(60)))
            throw new IllegalStateException("lb did not start:\n" + lb.tail(20));
        return new Stack(serve, lb, lbUrl, urls);
    }

    private static Block block(Stack s, Target target, SpanLog spans, int seed) throws InterruptedException {
        Workload w = Workload.synthetic(
                PER_BLOCK,
                LengthDist.fixed(IN),
                new Workload.Sampling(
                        CompletionRequest.Endpoint.COMPLETIONS, null, OUT, null, 1.0, (long) seed, 1, true, true),
                1000,
                seed);
        double serve0 = CpuTime.ofMs(s.serve().pid()), lb0 = CpuTime.ofMs(s.lb().pid()), client0 = CpuTime.selfMs();
        Summary sum = new LoadGenerator(
                        List.of(target),
                        w,
                        LoadGenerator.Options.closed(Topology.LB, Connection.KEEP_ALIVE, CONCURRENCY, PER_BLOCK))
                .traced(spans)
                .run()
                .summary();
        int n = Math.max(1, sum.completed());
        return new Block(
                (CpuTime.ofMs(s.serve().pid()) - serve0) / n,
                (CpuTime.ofMs(s.lb().pid()) - lb0) / n,
                (CpuTime.selfMs() - client0) / n,
                sum.throughput().outputTokens().estimate());
    }

    private static void report(List<Block> plain, List<Block> traced) {
        System.out.println(
                "\n## --trace (serve, lb and the client's spans): CPU ms per request, median [min, max] over "
                        + plain.size() + " blocks");
        System.out.println("| part | without | with | extra (median of paired differences) |\n|---|---|---|---|");
        String[] names = {"serve", "lb", "client"};
        double extraAll = 0, all = 0;
        for (int k = 0; k < 3; k++) {
            int part = k;
            double[] a = plain.stream().mapToDouble(b -> part(b, part)).toArray();
            double[] t = traced.stream().mapToDouble(b -> part(b, part)).toArray();
            double[] d = new double[a.length];
            for (int i = 0; i < a.length; i++) d[i] = t[i] - a[i];
            extraAll += median(d);
            all += median(a);
            System.out.printf(
                    Locale.ROOT,
                    "| %s | %.3f [%.3f, %.3f] | %.3f [%.3f, %.3f] | %+.3f [%+.3f, %+.3f] |%n",
                    names[k],
                    median(a),
                    min(a),
                    max(a),
                    median(t),
                    min(t),
                    max(t),
                    median(d),
                    min(d),
                    max(d));
        }
        double[] ratio = new double[plain.size()];
        for (int i = 0; i < ratio.length; i++)
            ratio[i] = traced.get(i).tokPerS() / plain.get(i).tokPerS();
        System.out.printf(
                Locale.ROOT,
                "all CPU per request %.3f ms without; tracing adds %.3f ms (%.2f %%). Throughput with/without, paired"
                        + " blocks: median %.3f [%.3f, %.3f] (moved by the machine as much as by tracing)%n",
                all,
                extraAll,
                100 * extraAll / all,
                median(ratio),
                min(ratio),
                max(ratio));
    }

    /**
     * CPU per scrape, from 2,000 scrapes in a row of one serve port and of the lb once the load has stopped (after
     * 1,000 that compile the route), less what the same JVMs spend idle over as long.
     */
    private static void scrapeCost(OkHttpClient http, Stack s) throws InterruptedException {
        int n = 2000;
        OpenAiClient port = new OpenAiClient(http, s.ports().get(0), null, true);
        OpenAiClient lb = new OpenAiClient(http, s.lbUrl(), null, true);
        for (int i = 0; i < 1000; i++) {
            port.get("/metrics");
            lb.get("/metrics");
        }
        double idle0 = CpuTime.ofMs(s.serve().pid()), idleLb0 = CpuTime.ofMs(s.lb().pid());
        long w0 = System.nanoTime();
        Thread.sleep(2000);
        double idleMsPerS = (CpuTime.ofMs(s.serve().pid()) - idle0) / ((System.nanoTime() - w0) / 1e9);
        double idleLbMsPerS = (CpuTime.ofMs(s.lb().pid()) - idleLb0) / ((System.nanoTime() - w0) / 1e9);
        double serve0 = CpuTime.ofMs(s.serve().pid());
        int bytes = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) bytes = port.get("/metrics").body().length();
        double sec = (System.nanoTime() - t0) / 1e9;
        double servePer = (CpuTime.ofMs(s.serve().pid()) - serve0 - idleMsPerS * sec) / n;
        double lb0 = CpuTime.ofMs(s.lb().pid());
        t0 = System.nanoTime();
        for (int i = 0; i < n; i++) lb.get("/metrics");
        sec = (System.nanoTime() - t0) / 1e9;
        double lbPer = (CpuTime.ofMs(s.lb().pid()) - lb0 - idleLbMsPerS * sec) / n;
        int cores = Runtime.getRuntime().availableProcessors();
        // the default grid: 4 serve ports and the lb, each scraped once a second
        double share = (4 * servePer + lbPer) / (1000.0 * cores);
        System.out.printf(
                Locale.ROOT,
                "%n## --scrape-metrics%nCPU per scrape: serve port %.3f ms (%d bytes), lb %.3f ms; the default grid's"
                        + " 4 ports and lb once a second take %.3f %% of %d cores%n",
                servePer,
                bytes,
                lbPer,
                100 * share,
                cores);
    }

    /**
     * What tracing costs per request, from the parts noise cannot move: the spans each process kept per traced request
     * (counted in its file) times one span's cost (timed here, 200,000 spans into a file).
     */
    private static void spanCost(Path trace, Path work, int tracedRequests) throws Exception {
        SpanLog probe = SpanLog.open(work.resolve("probe.jsonl"), "probe");
        int n = 200_000;
        for (int i = 0; i < n / 4; i++)
            probe.span("port 1", "decode", i, i + 1000, "0123456789abcdef0123456789abcdef", Map.of());
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++)
            probe.span(
                    "port 1",
                    "request",
                    t0 + i,
                    t0 + i + 1000,
                    "0123456789abcdef0123456789abcdef",
                    Map.of("prompt_tokens", 128, "completion_tokens", 32, "cached_tokens", 0));
        double usPerSpan = (System.nanoTime() - t0) / 1e3 / n;
        probe.close();
        System.out.printf(Locale.ROOT, "%n## --trace by its parts%none span: %.2f us (wall, one thread)%n", usPerSpan);
        double total = 0;
        for (String f : List.of("serve.jsonl", "lb.jsonl", "client.jsonl")) {
            long lines;
            try (var l = Files.lines(trace.resolve(f))) {
                lines = l.count();
            }
            double perRequest = (double) lines / tracedRequests;
            total += perRequest * usPerSpan;
            System.out.printf(
                    Locale.ROOT,
                    "%s: %.1f spans per request (engine steps included) = %.1f us%n",
                    f,
                    perRequest,
                    perRequest * usPerSpan);
        }
        System.out.printf(Locale.ROOT, "all: %.1f us of CPU per request%n", total);
    }

    private static double part(Block b, int k) {
        return k == 0 ? b.serveMs() : k == 1 ? b.lbMs() : b.clientMs();
    }

    private static double min(double[] xs) {
        return Arrays.stream(xs).min().orElse(Double.NaN);
    }

    private static double max(double[] xs) {
        return Arrays.stream(xs).max().orElse(Double.NaN);
    }

    private static void close(Stack s) {
        s.lb().close();
        s.serve().close();
    }
}
