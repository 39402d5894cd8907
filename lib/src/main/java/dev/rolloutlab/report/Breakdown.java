package dev.rolloutlab.report;

import tech.tablesaw.api.Row;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where the time goes, per topology and connection: the mean end-to-end latency split into what the servers said
 * about themselves (the engine's queue, prefill and decode; the balancer's share) and the rest, which is the client,
 * the transport and serialisation. In-process rows carry the engine's own timings, so the rest there is the
 * in-process overhead; the difference between the two rests is what HTTP adds around the same engine work.
 */
final class Breakdown {
    private Breakdown() {
    }

    /** Sums per leg: {n, e2el, queue, prefill, decode, lb, lbCount}. */
    static String markdown(RunData d) {
        Map<String, double[]> legs = new LinkedHashMap<>();
        for (Row r : d.requests()) {
            if (!r.getBoolean("ok") || r.isMissing("server_timing_decode_ms")) continue;
            double[] a = legs.computeIfAbsent(r.getString("topology") + " | " + r.getString("connection"), k -> new double[7]);
            a[0]++;
            a[1] += r.getNumber("e2el_ms");
            a[2] += value(r, "server_timing_queue_ms");
            a[3] += value(r, "server_timing_prefill_ms");
            a[4] += value(r, "server_timing_decode_ms");
            if (!r.isMissing("server_timing_lb_ms")) {
                a[5] += r.getNumber("server_timing_lb_ms");
                a[6]++;
            }
        }
        if (legs.isEmpty()) return "";
        StringBuilder sb = new StringBuilder("\n## Where the time goes\n\n")
                .append("Mean per request, in ms, from the servers' own `Server-Timing` (engine queue, prefill, decode; the balancer's ")
                .append("pick-connect-send) and the client's end-to-end latency; the rest is client, transport and serialisation.\n\n")
                .append("| topology | connection | requests | e2el | engine queue | prefill | decode | lb | client + transport + serialisation |\n")
                .append("|---|---|---|---|---|---|---|---|---|\n");
        legs.forEach((leg, a) -> {
            double n = a[0], e2el = a[1] / n, q = a[2] / n, p = a[3] / n, dec = a[4] / n, lb = a[6] > 0 ? a[5] / a[6] : 0;
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.2f | %.2f | %.2f | %.2f | %s | %.2f |%n", leg, (long) n, e2el, q, p, dec,
                    a[6] > 0 ? String.format(Locale.ROOT, "%.2f", lb) : "", e2el - q - p - dec - lb));
        });
        return sb.toString();
    }

    private static double value(Row r, String c) {
        return r.isMissing(c) ? 0 : r.getNumber(c);
    }
}
