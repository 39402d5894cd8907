package dev.rolloutlab.lb;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * {@code /metrics}: per-backend counters, gauges and histograms (label {@code backend}), the balancer's own counters
 * and the policy's, in Prometheus conventions ({@code _total}, {@code _seconds}). Built from the live counters at each
 * scrape, so the relay's hot path only increments atomics.
 */
final class LbMetrics {
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;
    private static final PrometheusTextFormatWriter TEXT = PrometheusTextFormatWriter.create();
    private static final String[] BREAKER_STATES = {"closed", "open", "ejected"};

    final AtomicLong allFailed = new AtomicLong();
    final AtomicLong refusedConnections = new AtomicLong();
    final AtomicLong clientsGone = new AtomicLong();
    final Versions versions;

    LbMetrics(Versions versions) {
        this.versions = versions;
    }

    byte[] render(List<Backend> backends, Policy policy) {
        MetricSnapshots.Builder m = MetricSnapshots.builder();
        perBackend(m, backends, "lb_requests", "Attempts sent to the backend.", b -> b.stats.requests.get());
        perBackend(m, backends, "lb_errors", "Attempts that failed before a response.", b -> b.stats.errors.get());
        perBackend(
                m,
                backends,
                "lb_retries",
                "Attempts given up on this backend for another.",
                b -> b.stats.retries.get());
        gauge(m, backends, "lb_in_flight", "Requests relayed to the backend now.", b -> b.inFlight.get());
        gauge(m, backends, "lb_backend_healthy", "1 while its health checks pass.", b -> b.health.up ? 1 : 0);
        gauge(
                m,
                backends,
                "lb_backend_weights_version",
                "Weights version it last reported (-1: none yet).",
                b -> b.version);
        breaker(m, backends);
        histogram(
                m,
                backends,
                "lb_request_duration_seconds",
                "From sending a request to its last relayed byte.",
                b -> b.stats.duration);
        histogram(
                m,
                backends,
                "lb_backend_first_byte_seconds",
                "From sending a request to the backend's response head; a streamed completion's time to first token.",
                b -> b.stats.firstByte);
        counter(m, "lb_all_backends_failed", "Requests no backend could answer.", allFailed.get());
        counter(
                m,
                "lb_refused_connections",
                "Connections refused past the connection limit.",
                refusedConnections.get());
        counter(m, "lb_client_gone", "Requests whose client hung up before the answer.", clientsGone.get());
        counter(
                m,
                "lb_version_rejections",
                "Answers dropped for a weights version other than the group's.",
                versions.rejected.get());
        policy.addMetrics(m);
        ByteArrayOutputStream out = new ByteArrayOutputStream(8 << 10);
        try {
            TEXT.write(out, m.build());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return out.toByteArray();
    }

    /** One counter without labels; {@code name} without its {@code _total}, which the exposition adds. */
    static void counter(MetricSnapshots.Builder m, String name, String help, long value) {
        m.metricSnapshot(CounterSnapshot.builder()
                .name(name)
                .help(help)
                .dataPoint(CounterDataPointSnapshot.builder().value(value).build())
                .build());
    }

    private static void perBackend(
            MetricSnapshots.Builder m, List<Backend> backends, String name, String help, ToDoubleFunction<Backend> v) {
        CounterSnapshot.Builder c = CounterSnapshot.builder().name(name).help(help);
        for (Backend b : backends)
            c.dataPoint(CounterDataPointSnapshot.builder()
                    .labels(Labels.of("backend", b.label))
                    .value(v.applyAsDouble(b))
                    .build());
        m.metricSnapshot(c.build());
    }

    private static void gauge(
            MetricSnapshots.Builder m, List<Backend> backends, String name, String help, ToDoubleFunction<Backend> v) {
        GaugeSnapshot.Builder g = GaugeSnapshot.builder().name(name).help(help);
        for (Backend b : backends)
            g.dataPoint(GaugeDataPointSnapshot.builder()
                    .labels(Labels.of("backend", b.label))
                    .value(v.applyAsDouble(b))
                    .build());
        m.metricSnapshot(g.build());
    }

    /** The passive breaker's state as a state set: 1 on the current state's series, 0 on the others. */
    private static void breaker(MetricSnapshots.Builder m, List<Backend> backends) {
        GaugeSnapshot.Builder g = GaugeSnapshot.builder()
                .name("lb_backend_breaker_state")
                .help("1 on the breaker's current state: closed (routable), open (failures in a row), ejected"
                        + " (first bytes timed out, as an outlier).");
        long now = System.nanoTime();
        for (Backend b : backends) {
            String state = b.health.breakerState(now);
            for (String s : BREAKER_STATES)
                g.dataPoint(GaugeDataPointSnapshot.builder()
                        .labels(Labels.of("backend", b.label, "state", s))
                        .value(s.equals(state) ? 1 : 0)
                        .build());
        }
        m.metricSnapshot(g.build());
    }

    private static void histogram(
            MetricSnapshots.Builder m,
            List<Backend> backends,
            String name,
            String help,
            Function<Backend, Stats.Latency> latency) {
        HistogramSnapshot.Builder h = HistogramSnapshot.builder().name(name).help(help);
        for (Backend b : backends) {
            Stats.Latency l = latency.apply(b);
            h.dataPoint(HistogramDataPointSnapshot.builder()
                    .labels(Labels.of("backend", b.label))
                    .classicHistogramBuckets(l.buckets())
                    .sum(l.sumSeconds())
                    .build());
        }
        m.metricSnapshot(h.build());
    }
}
