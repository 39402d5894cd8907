package dev.rolloutlab.report;

import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.ServerMetric;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

/**
 * What the servers said of themselves during the run ({@code metrics.csv}): a line per HTTP leg in REPORT.md with
 * serve's running and waiting requests and KV usage, and a plot of the three over the run's time.
 */
final class ServerMetrics {
    /** The plot of the servers' queues and KV usage over the run. */
    static final String PLOT = "server_metrics.png";
    /** A pause between samples longer than this is a gap between cells: the plot's lines break there. */
    private static final double GAP_S = 2.5;

    private ServerMetrics() {}

    /** The REPORT.md section; empty when the run has no metrics.csv. */
    static String markdown(RunData d) {
        return d.metrics().map(ServerMetrics::section).orElse("");
    }

    private static String section(Table m) {
        StringBuilder sb = new StringBuilder("\n## What the servers reported (/metrics)\n\n");
        sb.append("Every server's `/metrics` sampled once a second (four times with `--quick`) through the rounds, "
                        + "each sample kept for the HTTP cell it fell in (`")
                .append(ServerMetric.FILE)
                .append("`; plot `plots/")
                .append(PLOT)
                .append("`). Running and waiting are summed over serve's ports at each sample; KV usage is the "
                        + "fullest port's share of its running batch at full context.\n\n")
                .append("| leg | samples | running (mean / max) | waiting (mean / max) | KV usage max |\n")
                .append("|---|---|---|---|---|\n");
        Map<String, Ticks> byLeg = new TreeMap<>();
        for (Row r : m) {
            String leg = r.getString("topology") + "/" + r.getString("connection");
            byLeg.computeIfAbsent(leg, k -> new Ticks()).add(r);
        }
        for (var e : byLeg.entrySet()) {
            Ticks t = e.getValue();
            sb.append(String.format(
                    Locale.ROOT,
                    "| %s | %d | %.1f / %.0f | %.1f / %.0f | %.1f %% |%n",
                    e.getKey(),
                    t.running.size(),
                    mean(t.running.values()),
                    max(t.running.values()),
                    mean(t.waiting.values()),
                    max(t.waiting.values()),
                    100 * max(t.kv.values())));
        }
        return sb.toString();
    }

    /** Running and waiting requests (left axis) and the KV usage in percent, over the run; empty without metrics. */
    static XYChart chart(RunData d) {
        XYChart chart = new XYChartBuilder()
                .width(Charts.W)
                .height(Charts.H)
                .title("What serve reported during the HTTP cells")
                .xAxisTitle("time since the run's start (s)")
                .yAxisTitle("requests (sum over ports) / KV usage (%)")
                .build();
        chart.getStyler().setYAxisMin(0.0).setXAxisDecimalPattern("#,##0").setYAxisDecimalPattern("#,##0");
        chart.getStyler().setMarkerSize(3).setLegendPosition(Styler.LegendPosition.InsideNW);
        d.metrics().ifPresent(m -> {
            Ticks all = new Ticks();
            for (Row r : m) all.add(r);
            series(chart, "running", all.running);
            series(chart, "waiting", all.waiting);
            TreeMap<Double, Double> kvPercent = new TreeMap<>();
            all.kv.forEach((t, v) -> kvPercent.put(t, 100 * v));
            series(chart, "KV usage (%)", kvPercent);
        });
        if (chart.getSeriesMap().isEmpty())
            chart.addSeries("no metrics in this run", new double[] {0}, new double[] {0});
        return chart;
    }

    /** One series over time, broken (a NaN point) wherever the samples pause between cells. */
    private static void series(XYChart chart, String name, TreeMap<Double, Double> byTime) {
        if (byTime.isEmpty()) return;
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        double last = Double.NaN;
        for (var e : byTime.entrySet()) {
            if (!Double.isNaN(last) && e.getKey() - last > GAP_S) {
                x.add((last + e.getKey()) / 2);
                y.add(Double.NaN);
            }
            x.add(e.getKey());
            y.add(e.getValue());
            last = e.getKey();
        }
        chart.addSeries(name, x, y);
    }

    /**
     * The samples of a set of rows by their scrape time (rounded to 10 ms, so one scrape of several ports is one tick):
     * running and waiting summed over ports, KV usage the fullest port's.
     */
    private static final class Ticks {
        final TreeMap<Double, Double> running = new TreeMap<>(), waiting = new TreeMap<>(), kv = new TreeMap<>();

        void add(Row r) {
            String metric = r.getString("metric");
            double t = Math.round(r.getDouble("time_s") * 100) / 100.0, v = r.getDouble("value");
            switch (metric) {
                case ServerMetric.RUNNING -> running.merge(t, v, Double::sum);
                case ServerMetric.WAITING -> waiting.merge(t, v, Double::sum);
                case ServerMetric.KV_USAGE -> kv.merge(t, v, Math::max);
                default -> {}
            }
        }
    }

    private static double mean(java.util.Collection<Double> xs) {
        return Confidence.mean(xs.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static double max(java.util.Collection<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }
}
