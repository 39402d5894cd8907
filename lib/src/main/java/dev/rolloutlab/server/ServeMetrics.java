package dev.rolloutlab.server;

import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.EngineLoad;
import dev.rolloutlab.engine.FinishReason;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.Sample;
import dev.rolloutlab.engine.Timings;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.ToDoubleFunction;

/**
 * One port's {@code /metrics} in vLLM's names and types ({@code vllm:} prefix), so the dashboards and schedulers that
 * read a vLLM fleet read this one, plus our own ({@code rolloutlab_}) for weights and cancellations. Every series is
 * labelled {@code model_name}, {@code engine} (ports sharing an engine report the same one) and {@code port}. Requests
 * are counted as serve finishes them; the engine's state is read when scraped, so idle ports cost nothing.
 */
final class ServeMetrics {
    /**
     * Latency bounds in seconds: vLLM's time-to-first-token bounds, with sub-millisecond ones below them for a CPU
     * engine's short steps and a loopback round trip.
     */
    static final double[] SECONDS = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40,
        80, 160, 640, 2560
    };
    /** Token-count bounds: vLLM's 1-2-5 series. */
    static final double[] TOKENS = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000};

    private static final PrometheusTextFormatWriter TEXT = PrometheusTextFormatWriter.create();

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final CounterDataPoint promptTokens, generationTokens, clientsGone;
    private final CounterDataPoint[] success = new CounterDataPoint[FinishReason.values().length];
    private final DistributionDataPoint ttft, itl, e2e, queue, prefill, decode, promptLength, generationLength;

    ServeMetrics(InProcessEngine engine, WeightAdmin admin, String model, int port) {
        Labels labels = Labels.of("engine", engine.name(), "model_name", model, "port", String.valueOf(port));
        gauge(
                "vllm:num_requests_running",
                "Sequences in the engine's running batch (a request of n samples is n).",
                labels,
                engine,
                EngineLoad::runningSequences);
        gauge(
                "vllm:num_requests_waiting",
                "Requests waiting to be admitted to the running batch.",
                labels,
                engine,
                EngineLoad::waitingRequests);
        long budget = engine.kvCacheBudgetBytes();
        gauge(
                "vllm:kv_cache_usage_perc",
                "Keys and values held, as a fraction (0-1) of the running batch at full context.",
                labels,
                engine,
                l -> budget > 0 ? (double) l.kvCacheBytes() / budget : 0);
        gauge(
                "rolloutlab_kv_cache_bytes",
                "Keys and values held by running sequences, in bytes.",
                labels,
                engine,
                EngineLoad::kvCacheBytes);
        gauge(
                "rolloutlab_prefix_cache_bytes",
                "Bytes held by the prefix cache.",
                labels,
                engine,
                l -> l.prefixCache().bytes());
        gauge(
                "rolloutlab_weights_version",
                "The weights version the engine samples with now.",
                labels,
                engine,
                // from the weights themselves: the load snapshot follows a swap only at the engine's next step
                l -> engine.weights().version());
        counterFrom(
                "rolloutlab_engine_steps",
                "Engine steps run.",
                labels,
                engine,
                l -> engine.steps().steps());
        counterFrom(
                "rolloutlab_engine_step_seconds",
                "Wall time the engine spent in its steps.",
                labels,
                engine,
                l -> engine.steps().busyNanos() / 1e9);
        counterFrom(
                "rolloutlab_engine_decode_rows",
                "Sequences decoded, summed over steps: divided by steps, the batch a decode step shared its weights with.",
                labels,
                engine,
                l -> engine.steps().decodeRows());
        counterFrom(
                "vllm:prefix_cache_queries",
                "Prompt tokens looked up in the prefix cache.",
                labels,
                engine,
                l -> l.prefixCache().queriedTokens());
        counterFrom(
                "vllm:prefix_cache_hits",
                "Prompt tokens the prefix cache served, so prefill skipped them.",
                labels,
                engine,
                l -> l.prefixCache().hitTokens());

        promptTokens = counter("vllm:prompt_tokens", "Prompt tokens of finished requests.", labels);
        generationTokens = counter("vllm:generation_tokens", "Generated tokens of finished requests.", labels);
        Counter finished = Counter.builder()
                .name("vllm:request_success")
                .help("Samples finished, by why they ended (stop, length, abort).")
                .labelNames("finished_reason")
                .constLabels(labels)
                .register(registry);
        for (FinishReason r : FinishReason.values()) success[r.ordinal()] = finished.labelValues(r.openai);
        clientsGone = counter(
                "rolloutlab_requests_cancelled",
                "Requests whose client closed the connection before the answer; the engine dropped them.",
                labels);

        ttft = seconds("vllm:time_to_first_token_seconds", "From the request's arrival to its first token.", labels);
        itl = seconds("vllm:inter_token_latency_seconds", "Between consecutive tokens of one sample.", labels);
        e2e = seconds("vllm:e2e_request_latency_seconds", "From the request's arrival to its whole answer.", labels);
        queue = seconds("vllm:request_queue_time_seconds", "Waiting to be admitted to the running batch.", labels);
        prefill = seconds("vllm:request_prefill_time_seconds", "The prefill step that made the first token.", labels);
        decode = seconds("vllm:request_decode_time_seconds", "Decoding after the first token.", labels);
        promptLength = histogram("vllm:request_prompt_tokens", "Prompt length of finished requests.", labels, TOKENS);
        generationLength =
                histogram("vllm:request_generation_tokens", "Generated tokens of finished requests.", labels, TOKENS);
        if (admin != null) admin.events().registerIn(registry);
    }

    /** A clock for one request's tokens, to pass to the engine wrapped around the request's own listener. */
    TokenClock clock(dev.rolloutlab.engine.TokenListener inner, int samples) {
        return new TokenClock(inner, samples, itl);
    }

    /** A request answered in full: its counts, and where its time went. */
    void finished(Completion c, TokenClock clock, long arrivedNs) {
        long now = System.nanoTime();
        promptTokens.inc(c.promptTokens());
        generationTokens.inc(c.completionTokens());
        promptLength.observe(c.promptTokens());
        generationLength.observe(c.completionTokens());
        for (Sample s : c.samples()) success[s.finishReason().ordinal()].inc();
        if (clock.firstNs() != 0) ttft.observe(Unit.nanosToSeconds(clock.firstNs() - arrivedNs));
        e2e.observe(Unit.nanosToSeconds(now - arrivedNs));
        Timings t = c.timings();
        if (t.queueNs() >= 0) queue.observe(Unit.nanosToSeconds(t.queueNs()));
        if (t.prefillNs() >= 0) prefill.observe(Unit.nanosToSeconds(t.prefillNs()));
        if (t.decodeNs() >= 0) decode.observe(Unit.nanosToSeconds(t.decodeNs()));
    }

    void clientGone() {
        clientsGone.inc();
    }

    /** The Prometheus text exposition of every series. */
    byte[] render() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 << 10);
        try {
            TEXT.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return out.toByteArray();
    }

    static String contentType() {
        return TEXT.getContentType();
    }

    private void gauge(
            String name, String help, Labels labels, InProcessEngine engine, ToDoubleFunction<EngineLoad> value) {
        GaugeWithCallback.builder()
                .name(name)
                .help(help)
                .constLabels(labels)
                .callback(cb -> cb.call(value.applyAsDouble(engine.load())))
                .register(registry);
    }

    private void counterFrom(
            String name, String help, Labels labels, InProcessEngine engine, ToDoubleFunction<EngineLoad> value) {
        CounterWithCallback.builder()
                .name(name)
                .help(help)
                .constLabels(labels)
                .callback(cb -> cb.call(value.applyAsDouble(engine.load())))
                .register(registry);
    }

    private CounterDataPoint counter(String name, String help, Labels labels) {
        return Counter.builder().name(name).help(help).constLabels(labels).register(registry);
    }

    private DistributionDataPoint seconds(String name, String help, Labels labels) {
        return histogram(name, help, labels, SECONDS);
    }

    private DistributionDataPoint histogram(String name, String help, Labels labels, double[] bounds) {
        return Histogram.builder()
                .name(name)
                .help(help)
                .constLabels(labels)
                .classicOnly()
                .classicUpperBounds(bounds)
                .register(registry);
    }
}
