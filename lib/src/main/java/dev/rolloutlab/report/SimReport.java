package dev.rolloutlab.report;

import static dev.rolloutlab.report.Charts.H;
import static dev.rolloutlab.report.Charts.W;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import tech.tablesaw.api.Table;

/**
 * Plots and REPORT.md of a {@code sim sweep} folder: throughput, p99 and weight propagation against host count, or a
 * groups sweep's throughput and computed prefill per way of routing, with the assumptions and the link check the
 * prediction rests on.
 */
public final class SimReport {
    public static final List<String> PLOTS = List.of("sim_throughput.png", "sim_p99.png", "sim_weights.png");
    /** The plots of a groups sweep ({@code sim sweep --group-size}). */
    public static final List<String> GROUP_PLOTS = List.of("sim_prefix_throughput.png", "sim_prefix_prefill.png");

    private SimReport() {}

    public static Path write(Path dir) {
        Path plots = dir.resolve("plots");
        Path prefix = dir.resolve("sim_prefix.csv");
        if (Files.exists(prefix)) {
            Table groups = RunData.csv(prefix, "sim_prefix");
            Charts.save(
                    byHosts(
                            groups,
                            "routing",
                            "output_throughput",
                            "Predicted output throughput of GRPO groups vs hosts, per way of routing",
                            "output tokens/s"),
                    plots.resolve(GROUP_PLOTS.get(0)));
            Charts.save(
                    byHosts(
                            groups,
                            "routing",
                            "computed_prefill_per_sample",
                            "Prompt tokens each sample still computed vs hosts, per way of routing",
                            "prompt tokens computed per sample"),
                    plots.resolve(GROUP_PLOTS.get(1)));
            StringBuilder sb = header(dir, "# Simulated fleet sweep: GRPO groups\n\n");
            sb.append("\n## Groups per way of routing\n\nEach prompt is sent as ")
                    .append(run(dir).path("config").path("group_size").asInt())
                    .append(" separate requests; every simulated engine keeps a prefix cache and charges prefill "
                            + "only for the prompt tokens it did not hold, so where a group's requests land decides "
                            + "what it computes. computed_prefill_per_sample: prompt tokens each sample still "
                            + "computed; a point above 90 % of this machine's CPU, or with failures, shows this "
                            + "machine, not the pod.\n\n")
                    .append(Report.table(
                            groups,
                            List.of(
                                    "hosts",
                                    "ports",
                                    "routing",
                                    "completed",
                                    "failed",
                                    "output_throughput",
                                    "mean_ttft_ms",
                                    "p50_e2el_ms",
                                    "computed_prefill_per_sample",
                                    "cache_hit_rate",
                                    "machine_cpu_busy_pct",
                                    "shows_this_machine")));
            return finish(dir, sb, GROUP_PLOTS);
        }
        Table sweep = RunData.csv(dir.resolve("sim_sweep.csv"), "sim_sweep");
        Table weights = RunData.csv(dir.resolve("sim_weights.csv"), "sim_weights");
        Charts.save(
                byHosts(
                        sweep,
                        "topology",
                        "output_throughput",
                        "Predicted output throughput vs hosts",
                        "output tokens/s"),
                plots.resolve(PLOTS.get(0)));
        Charts.save(
                byHosts(
                        sweep,
                        "topology",
                        "p99_e2el_ms",
                        "Predicted p99 end-to-end latency vs hosts (a point needs 1,000 requests)",
                        "p99 latency (ms)"),
                plots.resolve(PLOTS.get(1)));
        Charts.save(weightsChart(weights), plots.resolve(PLOTS.get(2)));
        StringBuilder sb = header(dir, "# Simulated fleet sweep\n\n");
        sb.append("\n## Throughput and latency\n\nmachine_cpu_busy_pct: this machine's CPU while the "
                        + "point ran; above 90 % the client, the ")
                .append("balancer and the simulated hosts compete for its cores, and the point shows this "
                        + "machine, not the pod; so does a point ")
                .append("with failed requests, as the simulated hosts inject no failure (shows_this_machine).\n\n")
                .append(Report.table(
                        sweep,
                        List.of(
                                "hosts",
                                "ports",
                                "topology",
                                "completed",
                                "failed",
                                "request_throughput",
                                "output_throughput",
                                "mean_ttft_ms",
                                "p50_e2el_ms",
                                "p99_e2el_ms",
                                "machine_cpu_busy_pct",
                                "shows_this_machine")));
        if (!sweep.isEmpty() && sweep.containsColumn("machine_cpu_busy_pct")) {
            Table sat = sweep.where(thisMachine(sweep));
            if (!sat.isEmpty())
                sb.append("\n**Not predictions** (this machine's cores above 90 %, or requests failed "
                                + "on simulated hosts that inject no ")
                        .append("failure: both show this machine, not the pod): ")
                        .append(String.join(
                                ", ",
                                sat.stream()
                                        .map(r -> (long) r.getDouble("hosts") + " hosts " + r.getString("topology"))
                                        .toList()))
                        .append(".\n");
        }
        sb.append("\n## Weight propagation\n\nwall_ms: until the last host serves the update; "
                        + "predicted_ms: bytes over the link rate (plus one round trip), ")
                .append("per host for http-push-all, summed for http-push-rolling.\n\n")
                .append(Report.table(
                        weights,
                        List.of(
                                "hosts",
                                "strategy",
                                "bytes_per_host",
                                "real_bytes_per_host",
                                "wall_ms",
                                "predicted_ms")));
        return finish(dir, sb, PLOTS);
    }

    /** The title, whether the run is incomplete, its configuration, assumptions and link check. */
    private static StringBuilder header(Path dir, String title) {
        JsonNode run = run(dir);
        JsonNode cfg = run.path("config");
        StringBuilder sb = new StringBuilder(title);
        if (run.path("incomplete").asBoolean())
            sb.append("**Incomplete:** ")
                    .append(run.path("incomplete_reason").asText())
                    .append("\n\n");
        sb.append("A prediction, not a measurement of a pod: simulated engines on simulated hosts of this machine. ")
                .append("Hosts ")
                .append(cfg.path("hosts"))
                .append(" × ")
                .append(cfg.path("ports_per_host"))
                .append(" ports, profile `")
                .append(cfg.path("profile").asText())
                .append("` ")
                .append(cfg.path("timing_model"))
                .append(", link ")
                .append(cfg.path("link"))
                .append(", bytes scale ")
                .append(cfg.path("bytes_scale"))
                .append(", weight update ")
                .append(cfg.path("model_gb"))
                .append(" GB.\n\n");
        sb.append("## Assumptions\n\n");
        for (JsonNode a : cfg.path("assumptions"))
            sb.append("- ").append(a.asText()).append('\n');
        JsonNode check = cfg.path("link_check");
        if (!check.isMissingNode()) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%n## Link check%n%nMeasured before the run on host 1: round trip %.3f ms "
                            + "(profile %.3f ms ± %.3f; "
                            + "delay added %s, %.3f ms of its own cost taken off the setting; its timer ended "
                            + "waits %.0f µs late at the median, %.0f µs at p99), rate %.1f Mbit/s "
                            + "(profile %.1f Mbit/s after scaling)%s.%n",
                    check.path("rtt_ms").asDouble(),
                    check.path("expected_rtt_ms").asDouble(),
                    check.path("tolerance_ms").asDouble(Double.NaN),
                    check.path("delay").asText().equals("NETEM")
                            ? "by tc netem"
                            : "inside each host's server (no sch_netem here)",
                    check.path("compensation_ms").asDouble(Double.NaN),
                    check.path("timer_late_median_us").asDouble(Double.NaN),
                    check.path("timer_late_p99_us").asDouble(Double.NaN),
                    check.path("rate_mbit").asDouble(),
                    check.path("expected_rate_mbit").asDouble(),
                    check.path("failure").isTextual()
                            ? ": " + check.path("failure").asText()
                            : ""));
        }
        return sb;
    }

    /** The sweep's time and its plots; writes REPORT.md. */
    private static Path finish(Path dir, StringBuilder sb, List<String> plots) {
        sb.append(String.format(
                Locale.ROOT,
                "%nThe sweep took %.0f s.%n%n## Plots%n%n",
                run(dir).path("config").path("wall_s").asDouble(Double.NaN)));
        for (String p : plots)
            sb.append("![").append(p).append("](plots/").append(p).append(")\n");
        Path md = dir.resolve("REPORT.md");
        Json.writeText(md, sb.toString());
        return md;
    }

    private static JsonNode run(Path dir) {
        try {
            return Json.parse(Files.readString(dir.resolve("run.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static XYChart byHosts(Table t, String by, String column, String title, String yTitle) {
        XYChart chart = new XYChartBuilder()
                .width(W)
                .height(H)
                .title(title)
                .xAxisTitle("hosts")
                .yAxisTitle(yTitle)
                .build();
        chart.getStyler()
                .setLegendPosition(
                        Styler.LegendPosition.OutsideS); // inside, it covered the lines of a fleet that scales
        chart.getStyler().setXAxisDecimalPattern("0");
        chart.getStyler().setYAxisDecimalPattern("#,##0.#");
        chart.getStyler().setYAxisMin(0.0);
        if (t.isEmpty()) {
            chart.addSeries("nothing measured", new double[] {0}, new double[] {0});
            return chart;
        }
        for (String s : new LinkedHashSet<>(t.stringColumn(by).asList())) {
            Table mine = t.where(t.stringColumn(by).isEqualTo(s));
            chart.addSeries(
                    s,
                    mine.doubleColumn("hosts").asDoubleArray(),
                    mine.doubleColumn(column).asDoubleArray());
        }
        if (t.containsColumn("machine_cpu_busy_pct")) { // a reader must see which points show this machine, not the pod
            Table sat = t.where(thisMachine(t).and(t.doubleColumn(column).isNotMissing()));
            if (!sat.isEmpty()) {
                chart.addSeries(
                                "CPU above 90 % or failures: shows this machine",
                                sat.doubleColumn("hosts").asDoubleArray(),
                                sat.doubleColumn(column).asDoubleArray())
                        .setXYSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Scatter)
                        .setMarker(org.knowm.xchart.style.markers.SeriesMarkers.CROSS)
                        .setMarkerColor(new java.awt.Color(200, 0, 0));
                chart.getStyler().setMarkerSize(11);
            }
        }
        return chart;
    }

    /**
     * Points the sweep marked as showing this machine rather than the pod (folders from before the mark: CPU above 90
     * %).
     */
    private static tech.tablesaw.selection.Selection thisMachine(Table t) {
        return t.containsColumn("shows_this_machine")
                ? t.booleanColumn("shows_this_machine").isTrue()
                : t.doubleColumn("machine_cpu_busy_pct").isGreaterThan(90);
    }

    private static XYChart weightsChart(Table t) {
        XYChart chart =
                byHosts(t, "strategy", "wall_ms", "Weight update: time until every host serves it", "time (ms)");
        chart.getStyler()
                .setLegendPosition(
                        Styler.LegendPosition
                                .InsideNW); // eight entries below would squash the plot; the lines rise to the right
        if (t.isEmpty()) return chart;
        List<String> strategies =
                new ArrayList<>(new LinkedHashSet<>(t.stringColumn("strategy").asList()));
        for (String s : strategies) {
            Table mine = t.where(t.stringColumn("strategy").isEqualTo(s));
            chart.addSeries(
                            s + " (bytes / rate)",
                            mine.doubleColumn("hosts").asDoubleArray(),
                            mine.doubleColumn("predicted_ms").asDoubleArray())
                    .setLineStyle(SeriesLines.DASH_DASH);
        }
        return chart;
    }
}
