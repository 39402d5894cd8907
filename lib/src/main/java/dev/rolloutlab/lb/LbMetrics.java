package dev.rolloutlab.lb;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** The Prometheus text of {@code /metrics}: per-backend counters, gauges and a latency histogram. */
final class LbMetrics {
    final AtomicLong allFailed = new AtomicLong();
    final AtomicLong refusedConnections = new AtomicLong();
    final AtomicLong clientsGone = new AtomicLong();
    final Versions versions;

    LbMetrics(Versions versions) {
        this.versions = versions;
    }

    byte[] render(List<Backend> backends, Policy policy) {
        StringBuilder sb = new StringBuilder(4096);
        policy.appendMetrics(sb);
        sb.append("# TYPE lb_requests_total counter\n");
        for (Backend b : backends) line(sb, "lb_requests_total", b, null, b.stats.requests.get());
        sb.append("# TYPE lb_errors_total counter\n");
        for (Backend b : backends) line(sb, "lb_errors_total", b, null, b.stats.errors.get());
        sb.append("# TYPE lb_retries_total counter\n");
        for (Backend b : backends) line(sb, "lb_retries_total", b, null, b.stats.retries.get());
        sb.append("# TYPE lb_in_flight gauge\n");
        for (Backend b : backends) line(sb, "lb_in_flight", b, null, b.inFlight.get());
        sb.append("# TYPE lb_backend_healthy gauge\n");
        for (Backend b : backends) line(sb, "lb_backend_healthy", b, null, b.health.up ? 1 : 0);
        sb.append("# TYPE lb_backend_weights_version gauge\n");
        for (Backend b : backends) line(sb, "lb_backend_weights_version", b, null, b.version);
        sb.append("# TYPE lb_request_duration_seconds histogram\n");
        for (Backend b : backends) {
            long cum = 0;
            for (int i = 0; i <= Stats.BUCKETS.length; i++) {
                cum += b.stats.buckets.get(i);
                line(
                        sb,
                        "lb_request_duration_seconds_bucket",
                        b,
                        i < Stats.BUCKETS.length ? String.valueOf(Stats.BUCKETS[i]) : "+Inf",
                        cum);
            }
            sb.append("lb_request_duration_seconds_sum{backend=\"")
                    .append(b.label)
                    .append("\"} ")
                    .append(b.stats.latencySumMicros.get() / 1e6)
                    .append('\n');
            line(sb, "lb_request_duration_seconds_count", b, null, cum);
        }
        sb.append("# TYPE lb_all_backends_failed_total counter\nlb_all_backends_failed_total ")
                .append(allFailed.get())
                .append('\n');
        sb.append("# TYPE lb_refused_connections_total counter\nlb_refused_connections_total ")
                .append(refusedConnections.get())
                .append('\n');
        sb.append("# TYPE lb_client_gone_total counter\nlb_client_gone_total ")
                .append(clientsGone.get())
                .append('\n');
        sb.append("# TYPE lb_version_rejections_total counter\nlb_version_rejections_total ")
                .append(versions.rejected.get())
                .append('\n');
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void line(StringBuilder sb, String name, Backend b, String le, long v) {
        sb.append(name).append("{backend=\"").append(b.label).append('"');
        if (le != null) sb.append(",le=\"").append(le).append('"');
        sb.append("} ").append(v).append('\n');
    }
}
