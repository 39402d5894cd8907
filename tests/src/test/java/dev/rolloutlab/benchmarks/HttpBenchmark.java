package dev.rolloutlab.benchmarks;

import static dev.rolloutlab.results.Percentiles.median;

import dev.rolloutlab.bench.LengthDist;
import dev.rolloutlab.bench.LoadGenerator;
import dev.rolloutlab.bench.Target;
import dev.rolloutlab.bench.Workload;
import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.SamplingParams;
import dev.rolloutlab.engine.model.DefaultModels;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ChildJvm;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Slo;
import dev.rolloutlab.results.Summary;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.Ports;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * HTTP-side benchmarks for docs/benchmarks.md (not a test). {@code tests/bench http}: per-request HTTP overhead vs
 * in-process, serve under wrk, the load generator's ceiling and CPU cost against nginx, and LB vs direct vs nginx
 * proxy.
 */
public final class HttpBenchmark {
    static final String BODY = "{\"prompt\":[20,21,22,23,24,25,26,27],\"max_tokens\":1}";
    static Path work;

    public static void main(String[] args) throws Exception {
        work = Files.createDirectories(Path.of("target", "bench-http").toAbsolutePath());
        System.out.printf(
                "machine: %d cores, java %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        Path model = DefaultModels.ensure("tiny");
        List<Integer> ports = Ports.free(8);
        Files.writeString(
                work.resolve("post.lua"),
                "wrk.method = \"POST\"\nwrk.body = '" + BODY
                        + "'\nwrk.headers[\"Content-Type\"] = \"application/json\"\n");
        try (ChildJvm serve = ChildJvm.start(
                "serve",
                List.of(
                        "--model",
                        model.toString(),
                        "--num-servers",
                        "2",
                        "--ports",
                        ports.get(0) + "," + ports.get(1),
                        "--ready-file",
                        work.resolve("serve.json").toString()),
                work.resolve("serve.log"))) {
            serve.awaitReadyFile(work.resolve("serve.json"), Duration.ofSeconds(60));
            String s1 = "http://127.0.0.1:" + ports.get(0), s2 = "http://127.0.0.1:" + ports.get(1);
            String only = args.length > 0 ? args[0] : "all";
            if (only.equals("all")) {
                overhead(model, s1);
                System.out.println(
                        "\n## serve under wrk (/v1/completions, max_tokens=1, 64 connections, 2 threads, 10 s)");
                System.out.println(wrk(s1 + "/v1/completions", 64, true).line());
            }

            int nginxStatic = ports.get(2), nginxProxy = ports.get(3);
            Process nginx = nginx(nginxStatic, nginxProxy, ports.get(6), ports.get(0), ports.get(1));
            try {
                if (!only.equals("lb")) generatorCeiling("http://127.0.0.1:" + nginxStatic);
                if (!only.equals("gen")) lbCost("http://127.0.0.1:" + nginxStatic, ports.get(5));
                if (!only.equals("gen"))
                    lbComparison(
                            s1,
                            s2,
                            "http://127.0.0.1:" + nginxProxy,
                            "http://127.0.0.1:" + ports.get(6),
                            ports.get(4),
                            ports.get(7));
            } finally {
                nginx.destroy();
                nginx.waitFor();
            }
        }
        System.exit(0);
    }

    static void overhead(Path model, String url) throws Exception {
        System.out.println(
                "## per-request overhead: tiny model, max_tokens=1, one client, 3000 requests after 5000 warm-up");
        Overhead o = overhead(model, url, 3000, 5000);
        System.out.printf("in-process:           p50 %8.1f us  p99 %8.1f us%n", o.inproc()[0], o.inproc()[1]);
        String[] names = {"HTTP keep-alive:", "HTTP Connection: close:"};
        double[][] http = {o.keepAlive(), o.close()};
        for (int k = 0; k < 2; k++) {
            double[] p = http[k];
            System.out.printf(
                    "%-22s p50 %8.1f us  p99 %8.1f us  (adds p50 %+.1f us, p99 %+.1f us)%n",
                    names[k], p[0], p[1], p[0] - o.inproc()[0], p[1] - o.inproc()[1]);
        }
    }

    /**
     * p50 and p99 (us) of one max_tokens=1 request, one at a time: in this JVM's engine, over HTTP keep-alive, and with
     * close.
     */
    public record Overhead(double[] inproc, double[] keepAlive, double[] close, double[] keepAliveOutsideServer) {
        /** What HTTP keep-alive adds at the median, in ms: the transport, the client and serve's own work. */
        public double keepAliveAddsMs() {
            return (keepAlive[0] - inproc[0]) / 1000;
        }

        /**
         * The median keep-alive round trip less the server's own total (its Server-Timing), in ms: the client and the
         * transport alone, with no engine time in it, so two JVMs computing at different speeds cannot move it.
         */
        public double keepAliveOutsideServerMs() {
            return keepAliveOutsideServer[0] / 1000;
        }
    }

    /** The same measurement with fewer requests, for tests that compare another figure against it. */
    public static Overhead overhead(Path model, String url, int n, int warm) {
        long[] inproc = new long[n];
        try (InProcessEngine e = InProcessEngine.open(model)) {
            int[] prompt = {20, 21, 22, 23, 24, 25, 26, 27};
            GenerationRequest r =
                    new GenerationRequest(prompt, 1, SamplingParams.greedy(1).withIgnoreEos(true));
            for (int i = 0; i < warm; i++) e.generate(r);
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                e.generate(r);
                inproc[i] = System.nanoTime() - t0;
            }
        }
        var http = OpenAiClient.http(4, Duration.ofSeconds(30));
        long[][] results = new long[2][n];
        long[] outside = new long[n];
        for (int k = 0; k < 2; k++) {
            OpenAiClient c = new OpenAiClient(http, url, null, k == 0);
            CompletionRequest req = CompletionRequest.completion(
                            null, new int[] {20, 21, 22, 23, 24, 25, 26, 27}, 1, 0.0)
                    .withSampling(1, null, true);
            for (int i = 0; i < warm; i++) c.complete(req);
            for (int i = 0; i < n; i++) {
                OpenAiClient.Result res = c.complete(req);
                if (!res.ok()) throw new IllegalStateException(res.error());
                results[k][i] = res.endNs() - res.sentNs();
                if (k == 0)
                    outside[i] = results[k][i] - Math.round(res.serverTimings().totalMs() * 1e6);
            }
        }
        return new Overhead(pcts(inproc), pcts(results[0]), pcts(results[1]), pcts(outside));
    }

    static double[] pcts(long[] ns) {
        long[] s = ns.clone();
        Arrays.sort(s);
        return new double[] {s[s.length / 2] / 1e3, s[(int) (s.length * 0.99)] / 1e3};
    }

    record Wrk(double rps, String p50, String p99, String raw) {
        String line() {
            return String.format("wrk: %.0f req/s, latency p50 %s p99 %s", rps, p50, p99);
        }
    }

    static final int WRK_SECONDS = 8;

    static Wrk wrk(String url, int conns, boolean post) throws Exception {
        List<String> cmd = new ArrayList<>(
                List.of("wrk", "-t" + Math.min(2, conns), "-c" + conns, "-d" + WRK_SECONDS + "s", "--latency"));
        if (post) cmd.addAll(List.of("-s", work.resolve("post.lua").toString()));
        cmd.add(url);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        Matcher rps = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
        Matcher p50 = Pattern.compile("\\s50%\\s+(\\S+)").matcher(out);
        Matcher p99 = Pattern.compile("\\s99%\\s+(\\S+)").matcher(out);
        if (!rps.find() || !p50.find() || !p99.find())
            throw new IllegalStateException("cannot parse wrk output:\n" + out);
        return new Wrk(Double.parseDouble(rps.group(1)), p50.group(1), p99.group(1), out);
    }

    static Process nginx(int staticPort, int proxyPort, int proxyOnePort, int b1, int b2) throws Exception {
        Path dir = Files.createDirectories(work.resolve("nginx"));
        String body =
                "{\\\"id\\\":\\\"x\\\",\\\"object\\\":\\\"text_completion\\\",\\\"choices\\\":[{\\\"index\\\":0,\\\"text\\\":\\\"ok\\\",\\\"finish_reason\\\":\\\"length\\\"}],"
                        + "\\\"usage\\\":{\\\"prompt_tokens\\\":1,\\\"completion_tokens\\\":1,\\\"total_tokens\\\":2}}";
        String conf = """
                worker_processes 1;
                daemon off;
                pid %s/nginx.pid;
                error_log %s/error.log;
                events { worker_connections 4096; }
                http {
                  access_log off;
                  client_body_temp_path %s/body;
                  proxy_temp_path %s/proxy;
                  upstream backends { server 127.0.0.1:%d; server 127.0.0.1:%d; keepalive 128; }
                  server { listen 127.0.0.1:%d; location / { default_type application/json; return 200 "%s"; } }
                  server { listen 127.0.0.1:%d; location / { proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection ""; } }
                  upstream one { server 127.0.0.1:%d; keepalive 128; }
                  server { listen 127.0.0.1:%d; location / { proxy_pass http://one; proxy_http_version 1.1; proxy_set_header Connection ""; } }
                }
                """.formatted(dir, dir, dir, dir, b1, b2, staticPort, body, proxyPort, b1, proxyOnePort);
        Files.writeString(dir.resolve("nginx.conf"), conf);
        Process p = new ProcessBuilder("nginx", "-c", dir.resolve("nginx.conf").toString(), "-p", dir.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("out.log").toFile())
                .start();
        OpenAiClient c = new OpenAiClient(
                OpenAiClient.http(1, Duration.ofSeconds(2)), "http://127.0.0.1:" + staticPort, null, true);
        for (int i = 0; i < 100 && c.get("/").status() != 200; i++) Thread.sleep(50);
        return p;
    }

    static void generatorCeiling(String nginx) throws Exception {
        System.out.println("\n## load generator ceiling: nginx static JSON, 64 connections, non-streaming");
        Wrk w = wrk(nginx + "/v1/completions", 64, true);
        System.out.println(w.line());
        var http = OpenAiClient.http(64, Duration.ofSeconds(30));
        Target t = Target.http(new OpenAiClient(http, nginx, null, true));
        Workload wl = Workload.synthetic(
                100,
                LengthDist.fixed(8),
                new Workload.Sampling(CompletionRequest.Endpoint.COMPLETIONS, null, 1, null, 0.0, null, 1, false, true),
                1000,
                1);
        new LoadGenerator(
                        List.of(t), wl, LoadGenerator.Options.closed(Topology.HTTP1, Connection.KEEP_ALIVE, 64, 20000))
                .run(); // warm-up
        Summary s = new LoadGenerator(
                        List.of(t),
                        wl,
                        new LoadGenerator.Options(
                                Topology.HTTP1,
                                Connection.KEEP_ALIVE,
                                64,
                                0,
                                LoadGenerator.Arrivals.POISSON,
                                0,
                                0,
                                Duration.ofSeconds(10),
                                0,
                                0,
                                LoadGenerator.Routing.ROUND_ROBIN,
                                Slo.NONE,
                                null))
                .run()
                .summary();
        System.out.printf(
                "rollout-lab bench: %.0f req/s (%.0f%% of wrk), p50 %.3f ms, p99 %.3f ms, failed %d%n",
                s.throughput().requests().estimate(),
                100 * s.throughput().requests().estimate() / w.rps(),
                s.e2el().median().estimate(),
                s.e2el().p99(),
                s.failed());
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        clientCost(nginx, os);
        long cpu0 = os.getProcessCpuTime();
        Summary open = new LoadGenerator(
                        List.of(t),
                        wl,
                        new LoadGenerator.Options(
                                Topology.HTTP1,
                                Connection.KEEP_ALIVE,
                                0,
                                1000,
                                LoadGenerator.Arrivals.POISSON,
                                0,
                                10000,
                                null,
                                0,
                                1,
                                LoadGenerator.Routing.ROUND_ROBIN,
                                Slo.NONE,
                                null))
                .run()
                .summary();
        long cpu = os.getProcessCpuTime() - cpu0;
        System.out.printf(
                "open loop at 1000 req/s: achieved %.0f req/s, generator CPU %.1f us per request (%.2f cores)%n",
                open.throughput().requests().estimate(),
                cpu / 1e3 / Math.max(1, open.completed()),
                cpu / 1e9 / open.durationS());
    }

    /** CPU per request, one at a time: our client's complete() vs a bare OkHttp call with a pre-built body. */
    static void clientCost(String nginx, com.sun.management.OperatingSystemMXBean os) throws Exception {
        var http = OpenAiClient.http(4, Duration.ofSeconds(30));
        OpenAiClient c = new OpenAiClient(http, nginx, null, true);
        CompletionRequest req = CompletionRequest.completion(null, new int[] {20, 21, 22, 23, 24, 25, 26, 27}, 1, 0.0)
                .withSampling(1, null, true);
        Request raw = new Request.Builder()
                .url(nginx + "/v1/completions")
                .post(RequestBody.create(Json.bytes(req.toJson()), OpenAiClient.JSON))
                .build();
        int n = 20000;
        for (int i = 0; i < n; i++) c.complete(req);
        long c0 = os.getProcessCpuTime();
        for (int i = 0; i < n; i++) c.complete(req);
        long c1 = os.getProcessCpuTime();
        for (int i = 0; i < n; i++) {
            try (Response r = http.newCall(raw).execute()) {
                r.body().string();
            }
        }
        long c2 = os.getProcessCpuTime();
        for (int i = 0; i < n; i++) Json.bytes(req.toJson());
        long c3 = os.getProcessCpuTime();
        System.out.printf(
                "client CPU per request, one at a time: complete() %.1f us, bare OkHttp call %.1f us, JSON body %.1f us%n",
                (c1 - c0) / 1e3 / n, (c2 - c1) / 1e3 / n, (c3 - c2) / 1e3 / n);
    }

    /** The LB's own cost: its CPU per proxied request and added latency, in front of nginx serving static JSON. */
    static void lbCost(String nginx, int lbPort) throws Exception {
        System.out.println(
                "\n## load balancer's own cost: in front of nginx static JSON (a backend that costs almost nothing)");
        try (ChildJvm lb = ChildJvm.start(
                "lb",
                List.of("--listen-port", String.valueOf(lbPort), "--backends", nginx, "--quiet"),
                work.resolve("lb-cost.log"))) {
            OpenAiClient probe = new OpenAiClient(
                    OpenAiClient.http(1, Duration.ofSeconds(2)), "http://127.0.0.1:" + lbPort, null, true);
            for (int i = 0; i < 200 && probe.get("/health").status() != 200; i++) Thread.sleep(50);
            String ours = "http://127.0.0.1:" + lbPort + "/v1/completions";
            wrk(ours, 64, true); // warm-up
            for (int conns : new int[] {64, 1}) {
                long cpu0 = cpuNanos(lb.pid());
                Wrk w = wrk(ours, conns, true);
                long cpu = cpuNanos(lb.pid()) - cpu0;
                Wrk d = wrk(nginx + "/v1/completions", conns, true);
                System.out.printf(
                        "%2d connections: direct %s | through lb %s | lb CPU %.0f us per request%n",
                        conns, d.line(), w.line(), cpu / 1e3 / (w.rps() * WRK_SECONDS));
            }
        }
    }

    /** user + system CPU time of a process, from /proc (Linux). */
    static long cpuNanos(long pid) throws Exception {
        String[] f = Files.readString(Path.of("/proc/" + pid + "/stat"))
                .replaceFirst("^.*\\) ", "")
                .split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L; // fields 14 and 15, in 1/100 s ticks
    }

    /**
     * Direct vs our LB vs nginx. The backends' JIT keeps speeding up for a while, so every target is warmed first and
     * the measurements are interleaved (3 rounds of direct, lb, nginx); medians are reported. Throughput uses both
     * backends behind each proxy. Added latency is measured twice: over two backends (each proxied request may land on
     * the engine that was idle, which direct-to-one-backend never does) and with one backend behind each proxy, where
     * the only difference from direct is the extra hop.
     */
    static void lbComparison(String s1, String s2, String nginxProxy, String nginxOne, int lbPort, int lbOnePort)
            throws Exception {
        System.out.println(
                "\n## load balancer: wrk keep-alive, /v1/completions max_tokens=1; 3 interleaved rounds, medians");
        try (ChildJvm lb = ChildJvm.start(
                        "lb",
                        List.of("--listen-port", String.valueOf(lbPort), "--backends", s1 + "," + s2, "--quiet"),
                        work.resolve("lb.log"));
                ChildJvm lbOne = ChildJvm.start(
                        "lb",
                        List.of("--listen-port", String.valueOf(lbOnePort), "--backends", s1, "--quiet"),
                        work.resolve("lb-one.log"))) {
            for (int port : new int[] {lbPort, lbOnePort}) {
                OpenAiClient probe = new OpenAiClient(
                        OpenAiClient.http(1, Duration.ofSeconds(2)), "http://127.0.0.1:" + port, null, true);
                for (int i = 0; i < 200 && probe.get("/health").status() != 200; i++) Thread.sleep(50);
            }
            String ours = "http://127.0.0.1:" + lbPort + "/v1/completions",
                    oursOne = "http://127.0.0.1:" + lbOnePort + "/v1/completions";
            String direct = s1 + "/v1/completions",
                    ng = nginxProxy + "/v1/completions",
                    ngOne = nginxOne + "/v1/completions";
            for (String u : List.of(direct, s2 + "/v1/completions", ours, ng, oursOne, ngOne, ours)) wrk(u, 64, true);
            String[] names = {"direct (one backend)", "rollout-lab lb", "nginx proxy"};
            rounds("### 64 connections, proxies over both backends", names, new String[] {direct, ours, ng}, 64);
            rounds(
                    "### added latency at low load (1 connection), proxies over both backends",
                    names,
                    new String[] {direct, ours, ng},
                    1);
            rounds(
                    "### added latency at low load (1 connection), one backend behind each proxy",
                    names,
                    new String[] {direct, oursOne, ngOne},
                    1);
        }
    }

    static void rounds(String title, String[] names, String[] urls, int conns) throws Exception {
        System.out.println("\n" + title);
        List<List<Wrk>> runs = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        for (int round = 0; round < 3; round++) {
            for (int t = 0; t < 3; t++) {
                Wrk w = wrk(urls[t], conns, true);
                runs.get(t).add(w);
                System.out.printf("round %d %-22s %s%n", round + 1, names[t], w.line());
            }
        }
        double[] rps = new double[3], p50 = new double[3];
        for (int t = 0; t < 3; t++) {
            rps[t] = median(runs.get(t).stream().mapToDouble(Wrk::rps).toArray());
            p50[t] = median(
                    runs.get(t).stream().mapToDouble(w -> micros(w.p50())).toArray());
            System.out.printf("median %-21s %.0f req/s, p50 %.0f us%n", names[t], rps[t], p50[t]);
        }
        if (conns > 1) System.out.printf("lb reaches %.0f%% of nginx's requests/s (median)%n", 100 * rps[1] / rps[2]);
        else
            System.out.printf(
                    "lb adds %+.0f us p50 over direct; nginx adds %+.0f us (medians)%n",
                    p50[1] - p50[0], p50[2] - p50[0]);
    }

    /** wrk prints latencies as 497.00us, 1.05ms or 2.10s. */
    static double micros(String wrkLatency) {
        String v = wrkLatency.trim();
        if (v.endsWith("us")) return Double.parseDouble(v.substring(0, v.length() - 2));
        if (v.endsWith("ms")) return Double.parseDouble(v.substring(0, v.length() - 2)) * 1e3;
        if (v.endsWith("s")) return Double.parseDouble(v.substring(0, v.length() - 1)) * 1e6;
        throw new IllegalArgumentException("unknown wrk latency: " + wrkLatency);
    }
}
