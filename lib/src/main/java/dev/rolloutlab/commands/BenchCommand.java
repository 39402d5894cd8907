package dev.rolloutlab.commands;

import dev.rolloutlab.bench.LengthDist;
import dev.rolloutlab.bench.LoadGenerator;
import dev.rolloutlab.bench.MetricsScraper;
import dev.rolloutlab.bench.MooncakeTrace;
import dev.rolloutlab.bench.Target;
import dev.rolloutlab.bench.Workload;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.openai.ServerProbe;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.RunFolder;
import dev.rolloutlab.results.ServerMetric;
import dev.rolloutlab.results.Slo;
import dev.rolloutlab.results.SummaryText;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.util.SpanLog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bench}: an OpenAI load generator with vLLM's metrics, writing a results folder. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = "Load-test OpenAI-compatible endpoints; writes requests.jsonl, summary.csv/json and run.json.")
public final class BenchCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    BackendChoice where;

    @Spec
    CommandSpec spec;

    @Option(
            names = "--routing",
            defaultValue = "round-robin",
            description =
                    "Client-side spread over --backends: round-robin or least-outstanding. Default: ${DEFAULT-VALUE}")
    String routing;

    @Option(names = "--api-key", description = "Bearer key for the targets.")
    String apiKey;

    @Option(
            names = "--model",
            description = "Model name to send. Default: the one model the first target serves (/v1/models).")
    String model;

    @Option(
            names = "--endpoint",
            defaultValue = "completions",
            description = "completions, chat or auto (probe once; chat when completions is missing). Default: "
                    + "${DEFAULT-VALUE}")
    CompletionRequest.Endpoint endpoint;

    @Option(
            names = "--dataset",
            description = "JSONL of {\"prompt\":…} or {\"messages\":[…]} lines instead of synthetic prompts.")
    Path dataset;

    @Option(
            names = "--num-prompts",
            defaultValue = "100",
            description = "Requests to send (0 with --duration: until time is up). Default: ${DEFAULT-VALUE}")
    int numPrompts;

    @Option(
            names = {"--duration-sec", "--duration"},
            description = "Stop scheduling after this many seconds.")
    Double durationSec;

    @Option(
            names = "--input-len",
            defaultValue = "64",
            description = "Synthetic prompt length: N, uniform:A:B or normal:MEAN:STD. Default: ${DEFAULT-VALUE}")
    String inputLen;

    @Option(
            names = "--max-tokens",
            defaultValue = "32",
            description = "max_tokens per request. Default: ${DEFAULT-VALUE}")
    int maxTokens;

    @Option(
            names = "--output-len",
            description = "Draw max_tokens per request from N, uniform:A:B or normal:MEAN:STD instead.")
    String outputLen;

    @Option(
            names = "--n-samples",
            defaultValue = "1",
            description = "Samples per prompt (n), as one GRPO group. Default: ${DEFAULT-VALUE}")
    int nSamples;

    @Option(
            names = "--trace",
            description = "Replay a request trace in Mooncake's format (JSONL: timestamp ms, input_length, "
                    + "output_length, hash_ids; equal ids are equal 512-token blocks) at its own times, open loop; "
                    + "'synthetic' names a small synthetic trace shipped with Rollout Lab (made up, not recorded).")
    String trace;

    @Option(
            names = "--trace-block-tokens",
            defaultValue = "512",
            description = "Tokens each trace block becomes (input lengths scale with it), to fit a trace to a small "
                    + "model's context. Default: ${DEFAULT-VALUE}")
    int traceBlockTokens;

    @Option(
            names = "--group-size",
            defaultValue = "1",
            description = "Send each prompt as a GRPO group of this many samples (see --group-mode). "
                    + "Default: ${DEFAULT-VALUE}")
    int groupSize;

    @Option(
            names = "--group-mode",
            defaultValue = "separate",
            description = "separate: the group as that many one-sample requests, one after another, carrying "
                    + "X-Session-Id (what a prefix cache and a sticky balancer can keep together); n: one request "
                    + "with n. Default: ${DEFAULT-VALUE}")
    String groupMode;

    @Option(
            names = "--sessions",
            description = "Run multi-turn sessions instead of single requests: this many sessions of --turns turns, "
                    + "each turn resending the conversation plus its answer and a tool result (completions only).")
    Integer sessions;

    @Option(names = "--turns", defaultValue = "4", description = "Turns per session. Default: ${DEFAULT-VALUE}")
    int turns;

    @Option(
            names = "--tool-tokens",
            defaultValue = "32",
            description = "Tokens of the synthetic tool result appended after each answer. Default: ${DEFAULT-VALUE}")
    int toolTokens;

    @Option(
            names = {"--tool-ms"},
            defaultValue = "0",
            description = "The tool's time before the next turn (think time, not counted as latency). "
                    + "Default: ${DEFAULT-VALUE}")
    double toolMs;

    @Option(names = "--temperature", defaultValue = "1.0", description = "Default: ${DEFAULT-VALUE}")
    double temperature;

    @Option(
            names = "--seed",
            defaultValue = "0",
            description = "Seeds prompts, arrivals and per-request sampling seeds. Default: ${DEFAULT-VALUE}")
    long seed;

    @Option(
            names = "--ignore-eos",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "Generate exactly max_tokens (default on).")
    boolean ignoreEos;

    @Option(
            names = "--vocab-size",
            defaultValue = "1000",
            description = "Synthetic completions prompts use token ids below this. Default: ${DEFAULT-VALUE}")
    int vocabSize;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    LoadShape load;

    /** Closed loop or open loop, exactly one. */
    static final class LoadShape {
        @Option(names = "--concurrency", description = "Closed loop: keep C requests in flight.")
        Integer concurrency;

        @Option(names = "--rate", description = "Open loop: R requests per second.")
        Double rate;
    }

    @Option(
            names = "--arrivals",
            defaultValue = "poisson",
            description = "Open-loop arrivals: poisson or constant. Default: ${DEFAULT-VALUE}")
    String arrivals;

    @Option(
            names = "--max-concurrency",
            defaultValue = "0",
            description = "Open loop: cap on requests in flight (0 = none). Default: ${DEFAULT-VALUE}")
    int maxConcurrency;

    @Option(
            names = "--warmup",
            defaultValue = "2",
            description = "Unrecorded requests sent first. Default: ${DEFAULT-VALUE}")
    int warmup;

    @Option(
            names = "--stream",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "Stream (SSE) for TTFT and ITL (default on).")
    boolean stream;

    @Option(
            names = "--keep-alive",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description = "Pooled keep-alive connections (default), or --no-keep-alive: Connection: close, a new "
                    + "connection per request.")
    boolean keepAlive;

    @Option(
            names = "--pool-size",
            defaultValue = "64",
            description = "Idle connections kept per client. Default: ${DEFAULT-VALUE}")
    int poolSize;

    @Option(
            names = "--timeout-sec",
            defaultValue = "300",
            description = "Per-request timeout. Default: ${DEFAULT-VALUE}")
    int timeoutSec;

    @Option(
            names = "--scrape-metrics",
            description = "Sample every target's /metrics once a second during the run into metrics.csv (time_s, "
                    + "server, metric, value), as a Prometheus server would.")
    boolean scrapeMetrics;

    @Option(
            names = "--timeline",
            description = "Send every request with a W3C traceparent and keep its spans in <out>/trace/client.jsonl; "
                    + "the span files of serve --trace FILE and lb --trace FILE put beside it join it, and report "
                    + "<out> writes trace.json, which Perfetto's UI opens.")
    boolean timeline;

    @Option(names = "--goodput", description = "SLOs for goodput, e.g. ttft:500,tpot:50 (ms).")
    String goodput;

    @Option(
            names = "--topology",
            description = "What the targets are, written into the records: http1 (one server), httpN (this client "
                    + "spreads requests over several) or lb (a balancer). Default: http1 for one "
                    + "target, httpN for several.")
    Topology topology;

    @Option(names = "--out", description = "Results folder. Default: results/<timestamp>-bench.")
    Path out;

    @Override
    public Integer call() throws Exception {
        Cli.warnFormer(spec, "--duration", "--duration-sec");
        if (load == null && trace == null)
            throw new Cli.UserError("give --concurrency C (closed loop), --rate R (open loop) or --trace FILE");
        if (load != null && trace != null)
            throw new Cli.UserError("--trace sends at the trace's own times: drop --concurrency and --rate");
        if (load == null) load = new LoadShape();
        if (load.concurrency != null && load.concurrency < 1)
            throw new Cli.UserError("--concurrency must be at least 1");
        if (load.rate != null && !(load.rate > 0)) throw new Cli.UserError("--rate must be > 0");
        Integer concurrency = load.concurrency;
        Double rate = load.rate;
        List<String> urls = where.resolve().backends();
        var http = OpenAiClient.http(poolSize, Duration.ofSeconds(timeoutSec));
        List<OpenAiClient> clients = urls.stream()
                .map(u -> new OpenAiClient(http, u, apiKey, keepAlive))
                .toList();
        String m;
        try {
            m = model != null ? model : ServerProbe.servedModel(clients.get(0));
        } catch (IllegalArgumentException e) {
            throw new Cli.UserError(e.getMessage(), 1);
        }
        CompletionRequest.Endpoint ep = endpoint != null ? endpoint : ServerProbe.detectEndpoint(clients.get(0), m);
        if (endpoint == null) System.err.println("bench: endpoint " + ep.path + " (auto)");
        Workload.Sampling s = new Workload.Sampling(
                ep,
                m,
                maxTokens,
                outputLen == null ? null : LengthDist.parse(outputLen, "--output-len"),
                temperature,
                seed,
                nSamples,
                stream,
                ignoreEos);
        Workload w;
        MooncakeTrace.Replay replay = null;
        try {
            if (trace != null) {
                if (sessions != null || groupSize > 1 || dataset != null)
                    throw new IllegalArgumentException(
                            "--trace is its own workload: drop --sessions, --group-size and" + " --dataset");
                replay = MooncakeTrace.read(trace, s, traceBlockTokens, vocabSize);
                numPrompts = replay.workload().requests().size();
            }
            w = replay != null
                    ? replay.workload()
                    : dataset != null
                            ? Workload.fromJsonl(dataset, s)
                            : Workload.synthetic(
                                    Math.max(sessions != null ? sessions : numPrompts, 1),
                                    LengthDist.parse(inputLen, "--input-len"),
                                    s,
                                    vocabSize,
                                    seed);
            w = w.grouped(groupSize, Workload.GroupMode.parse(groupMode));
            if (sessions != null) {
                if (sessions < 1) throw new IllegalArgumentException("--sessions must be at least 1");
                if (load.concurrency == null)
                    throw new IllegalArgumentException("--sessions runs a closed loop: give --concurrency, not --rate");
                w = w.inSessions(new Workload.Turns(turns, toolTokens, toolMs, vocabSize));
                numPrompts = sessions * turns;
            } else if (groupSize > 1 && groupMode.equals("separate")) numPrompts *= groupSize;
        } catch (IllegalArgumentException | java.nio.file.NoSuchFileException e) {
            throw new Cli.UserError(
                    e instanceof java.nio.file.NoSuchFileException
                            ? "--trace " + trace + ": no such file"
                            : e.getMessage());
        }
        Connection connection = keepAlive ? Connection.KEEP_ALIVE : Connection.CLOSE;
        if (topology != null && topology.inProcess())
            throw new Cli.UserError("--topology " + topology + ": bench sends HTTP; use http1, httpN or lb");
        Topology t = topology != null ? topology : urls.size() == 1 ? Topology.HTTP1 : Topology.HTTP_N;
        LoadGenerator.Options o = new LoadGenerator.Options(
                t,
                connection,
                concurrency == null ? 0 : concurrency,
                rate == null ? 0 : rate,
                arrivals.equals("constant") ? LoadGenerator.Arrivals.CONSTANT : LoadGenerator.Arrivals.POISSON,
                maxConcurrency,
                numPrompts,
                durationSec == null ? null : Duration.ofMillis((long) (durationSec * 1000)),
                warmup,
                seed,
                routing.equals("least-outstanding")
                        ? LoadGenerator.Routing.LEAST_OUTSTANDING
                        : LoadGenerator.Routing.ROUND_ROBIN,
                goodput == null ? Slo.NONE : Slo.parse(goodput),
                System.err);
        List<Target> targets = clients.stream().map(Target::http).toList();
        LoadGenerator gen = replay != null ? new LoadGenerator(targets, replay, o) : new LoadGenerator(targets, w, o);
        RunFolder results = RunFolder.create(out, "bench");
        Interrupts.onInterrupt("bench", () -> gen.stop("interrupted (Ctrl-C)"));
        System.err.printf(
                "bench: %d target(s), %s, %s, %s -> %s%n",
                urls.size(),
                w.name(),
                concurrency != null
                        ? "concurrency " + concurrency
                        : rate != null ? "rate " + rate + "/s" : "at the trace's times",
                connection,
                results.dir());

        MetricsScraper scraper =
                scrapeMetrics ? MetricsScraper.start(clients, MetricsScraper.EVERY_SECOND, System.err::println) : null;
        SpanLog spans =
                timeline ? SpanLog.open(results.dir().resolve("trace").resolve("client.jsonl"), "client") : SpanLog.OFF;
        gen.traced(spans);
        LoadGenerator.Run run;
        try {
            run = gen.run();
        } finally {
            spans.close();
            if (scraper != null) {
                List<ServerMetric> samples = new ArrayList<>();
                for (MetricsScraper.Sample x : scraper.stop())
                    samples.add(x.in(t, connection, w.name(), 0, gen.originNs()));
                results.writeTable(ServerMetric.FILE, ServerMetric.class, samples);
                System.err.println("bench: " + samples.size() + " metric samples -> " + ServerMetric.FILE);
            }
        }
        results.writeRequests(run.records());
        results.writeSummaries(List.of(run.summary()));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("command", "bench");
        config.put("targets", urls);
        config.put("backends_flag", where.given());
        config.put("model", m);
        config.put("workload", w.name());
        config.put("endpoint", ep.wire());
        config.put("n_samples", nSamples);
        config.put("group_size", groupSize);
        config.put("group_mode", groupMode);
        if (sessions != null)
            config.put(
                    "sessions",
                    Map.of("sessions", sessions, "turns", turns, "tool_tokens", toolTokens, "tool_ms", toolMs));
        config.put("max_tokens", maxTokens);
        config.put("concurrency", concurrency);
        config.put("rate", rate);
        if (trace != null) config.put("trace", Map.of("file", trace, "block_tokens", traceBlockTokens));
        config.put("connection", connection);
        config.put("stream", stream);
        results.writeRun(config, run.incomplete(), run.reason());
        System.out.println(SummaryText.render(List.of(run.summary())));
        System.out.println("results: " + results.dir());
        return run.summary().failed() > 0 || run.incomplete() ? 1 : 0;
    }
}
