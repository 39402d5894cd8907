package dev.rolloutlab.report;

import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Topology;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;
import tech.tablesaw.api.Row;

/**
 * Where the time goes, per topology and connection: the mean end-to-end latency split into what the servers said about
 * themselves (the engine's queue, prefill and decode; serve's own time around the engine — parsing, tokenising,
 * serialising — from its total; the balancer's share) and the rest, which is the client and the transport. In-process
 * rows carry the engine's own timings, so the rest there is the in-process overhead; the difference between the two
 * rests is what HTTP adds around the same engine work.
 */
public final class Breakdown {
    /**
     * Mean ms per request of one leg; {@code rest} = e2el minus every part a server reported, so the parts sum to e2el.
     */
    record Leg(
            String topology,
            String connection,
            long requests,
            double e2el,
            double queue,
            double prefill,
            double decode,
            double serve,
            boolean serveReported,
            double lb,
            boolean lbReported) {
        double rest() {
            return e2el - queue - prefill - decode - serve - lb;
        }
    }

    private Breakdown() {}

    static List<Leg> legs(RunData d) {
        Map<String, double[]> sums =
                new LinkedHashMap<>(); // {n, e2el, queue, prefill, decode, lb, lbCount, serve, serveCount}
        for (Row r : d.requests()) {
            if (!r.getBoolean("ok") || r.isMissing("server_timing_decode_ms")) continue;
            double[] a =
                    sums.computeIfAbsent(r.getString("topology") + "|" + r.getString("connection"), k -> new double[9]);
            a[0]++;
            a[1] += r.getNumber("e2el_ms");
            a[2] += value(r, "server_timing_queue_ms");
            a[3] += value(r, "server_timing_prefill_ms");
            a[4] += value(r, "server_timing_decode_ms");
            if (!r.isMissing("server_timing_lb_ms")) {
                a[5] += r.getNumber("server_timing_lb_ms");
                a[6]++;
            }
            if (!r.isMissing("server_timing_total_ms")) {
                a[7] += r.getNumber("server_timing_total_ms")
                        - value(r, "server_timing_queue_ms")
                        - value(r, "server_timing_prefill_ms")
                        - value(r, "server_timing_decode_ms");
                a[8]++;
            }
        }
        List<Leg> out = new ArrayList<>();
        sums.forEach((key, a) -> {
            String[] tc = key.split("\\|");
            double n = a[0];
            // a part reported by only some requests is averaged over the requests, like the parts they all report
            out.add(new Leg(
                    tc[0], tc[1], (long) n, a[1] / n, a[2] / n, a[3] / n, a[4] / n, a[7] / n, a[8] > 0, a[5] / n,
                    a[6] > 0));
        });
        return out;
    }

    static String markdown(RunData d) {
        List<Leg> legs = legs(d);
        if (legs.isEmpty()) return "";
        StringBuilder sb = new StringBuilder("\n## Where the time goes\n\n")
                .append("Mean per request, in ms, from the servers' own `Server-Timing` (engine queue, "
                        + "prefill, decode; serve's own time ")
                .append("around the engine: its total minus the engine's parts, i.e. parsing, tokenising, "
                        + "serialising; the balancer's ")
                .append("pick-connect-send) and the client's end-to-end latency; the rest is the client and "
                        + "the transport.\n\n")
                .append("| topology | connection | requests | e2el | engine queue | prefill | decode | serve "
                        + "(parse, serialise) | lb | client + transport |\n")
                .append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (Leg l : legs) {
            sb.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %d | %.2f | %.2f | %.2f | %.2f | %s | %s | %.2f |%n",
                    l.topology(),
                    l.connection(),
                    l.requests(),
                    l.e2el(),
                    l.queue(),
                    l.prefill(),
                    l.decode(),
                    l.serveReported() ? String.format(Locale.ROOT, "%.2f", l.serve()) : "",
                    l.lbReported() ? String.format(Locale.ROOT, "%.2f", l.lb()) : "",
                    l.rest()));
        }
        sb.append(difference(legs));
        return sb.toString();
    }

    /** The same split as stacked bars, one bar per topology and connection; each bar's height is its mean e2el. */
    public static CategoryChart chart(RunData d) {
        CategoryChart chart = new CategoryChartBuilder()
                .width(900)
                .height(520)
                .title("Where the time goes (mean per request, all workloads)")
                .xAxisTitle("topology / connection")
                .yAxisTitle("ms per request")
                .build();
        chart.getStyler().setStacked(true);
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        List<Leg> legs = legs(d);
        if (legs.isEmpty()) {
            chart.setTitle("Where the time goes (not measured: no server reported Server-Timing)");
            chart.addSeries("none", List.of("-"), List.of(0));
            return chart;
        }
        List<String> cats =
                legs.stream().map(l -> l.topology() + "/" + l.connection()).toList();
        chart.addSeries("engine queue", cats, legs.stream().map(Leg::queue).toList());
        chart.addSeries("prefill", cats, legs.stream().map(Leg::prefill).toList());
        chart.addSeries("decode", cats, legs.stream().map(Leg::decode).toList());
        chart.addSeries(
                "serve (parse, serialise)", cats, legs.stream().map(Leg::serve).toList());
        chart.addSeries("lb", cats, legs.stream().map(Leg::lb).toList());
        // a negative rest (server clocks and client clock disagree by a little) cannot stack; it shows as zero
        chart.addSeries(
                "client + transport",
                cats,
                legs.stream().map(l -> Math.max(0, l.rest())).toList());
        return chart;
    }

    /**
     * Names the parts that make up one HTTP port's extra time over one in-process engine (http1 keep-alive vs inproc).
     */
    static String difference(List<Leg> legs) {
        Leg in = legs.stream()
                .filter(l -> l.topology().equals(Topology.INPROC.wire()))
                .findFirst()
                .orElse(null);
        Leg http = legs.stream()
                .filter(l -> l.topology().equals(Topology.HTTP1.wire())
                        && l.connection().equals(Connection.KEEP_ALIVE.wire()))
                .findFirst()
                .orElse(null);
        if (in == null || http == null) return "";
        double[] parts = {
            http.queue() - in.queue(),
            http.prefill() + http.decode() - in.prefill() - in.decode(),
            http.serve() - in.serve(),
            http.rest() - in.rest()
        };
        String[] names = {
            "engine queue", "engine compute (prefill + decode)", "serve (parse, serialise)", "client + transport"
        };
        StringBuilder sb = new StringBuilder(String.format(
                Locale.ROOT,
                "%nhttp1 keep-alive − inproc = %+.2f ms per request (all workloads): ",
                http.e2el() - in.e2el()));
        for (int i = 0; i < parts.length; i++)
            sb.append(String.format(Locale.ROOT, "%s%s %+.2f", i == 0 ? "" : ", ", names[i], parts[i]));
        return sb.append(" ms.\n").toString();
    }

    private static double value(Row r, String c) {
        return r.isMissing(c) ? 0 : r.getNumber(c);
    }
}
