package dev.rolloutlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.util.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Turns a results folder into {@code plots/*.png} and {@code REPORT.md}: each rule of thumb from the source SOP, stated
 * with the number from this run that confirms or contradicts it. Deterministic for a given folder.
 */
public final class Report {
    public static final List<String> PLOTS = List.of(
            "latency_cdf.png",
            "throughput.png",
            "overhead.png",
            "keepalive_vs_close.png",
            "staleness.png",
            "update_timeline.png",
            "throughput_vs_concurrency.png",
            "breakdown.png",
            "logprob_gap.png",
            "kl.png");

    private Report() {}

    /**
     * Loads the report's libraries now (Tablesaw scans the classpath for its readers once per JVM, and AWT loads its
     * fonts for the first chart: seconds each), so a run stopped by Ctrl-C writes its report within a few seconds.
     */
    public static void preload() {
        Table.create("preload");
        // and the first chart: AWT and its fonts load on first use, another second or two
        var chart = new org.knowm.xchart.XYChartBuilder().width(64).height(48).build();
        chart.addSeries("preload", new double[] {0, 1}, new double[] {0, 1});
        org.knowm.xchart.BitmapEncoder.getBufferedImage(chart);
    }

    /** Writes the plots and REPORT.md into {@code dir}; returns the REPORT.md path. */
    public static Path write(Path dir) {
        RunData d = RunData.load(dir);
        Path plots = dir.resolve("plots");
        Charts.save(Charts.latencyCdf(d), plots.resolve(PLOTS.get(0)));
        Charts.save(Charts.throughput(d), plots.resolve(PLOTS.get(1)));
        Charts.save(Charts.overhead(d), plots.resolve(PLOTS.get(2)));
        Charts.save(Charts.keepAliveVsClose(d), plots.resolve(PLOTS.get(3)));
        Charts.save(FreshnessCharts.stalenessHistogram(d), plots.resolve(PLOTS.get(4)));
        Charts.save(FreshnessCharts.updateTimeline(d), plots.resolve(PLOTS.get(5)));
        Charts.save(Charts.throughputVsConcurrency(d), plots.resolve(PLOTS.get(6)));
        Charts.save(Breakdown.chart(d), plots.resolve(PLOTS.get(7)));
        Charts.save(FreshnessCharts.logprobGap(d), plots.resolve(PLOTS.get(8)));
        Charts.save(FreshnessCharts.klEstimate(d), plots.resolve(PLOTS.get(9)));
        if (d.metrics().isPresent()) Charts.save(ServerMetrics.chart(d), plots.resolve(ServerMetrics.PLOT));
        Timeline.write(dir);
        Path md = dir.resolve("REPORT.md");
        Json.writeText(md, markdown(d));
        return md;
    }

    public static String markdown(RunData d) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Rollout Lab report: HTTP fanout vs in-process\n\n");
        d.run().ifPresent(run -> {
            JsonNode m = run.path("machine");
            sb.append("Machine: ")
                    .append(m.path("cores").asText("?"))
                    .append(" cores (")
                    .append(m.path("cpu").asText("?"))
                    .append("), ")
                    .append(m.path("memory_gib").asText("?"))
                    .append(" GiB, ")
                    .append(m.path("java").asText("?"))
                    .append(", vector API ")
                    .append(m.path("vector_api").asText("?"))
                    .append(".\n\n");
            sb.append("Config: `").append(run.path("config").toString()).append("`\n\n");
            if (run.path("incomplete").asBoolean()) {
                sb.append("**This run is incomplete:** ")
                        .append(run.path("incomplete_reason").asText())
                        .append(". The numbers below cover what was measured.\n\n");
            }
        });
        sb.append("## Findings\n\n");
        for (String f : findings(d)) sb.append("- ").append(f).append('\n');
        sb.append("\n## Latency and throughput by topology\n\n");
        sb.append(table(
                d.legs(),
                List.of(
                        "topology",
                        "connection",
                        "workload",
                        "completed",
                        "failed",
                        "output_throughput",
                        "output_throughput_ci_low",
                        "output_throughput_ci_high",
                        "mean_ttft_ms",
                        "mean_e2el_ms",
                        "mean_e2el_ms_ci_low",
                        "mean_e2el_ms_ci_high",
                        "p50_e2el_ms",
                        "p50_e2el_ms_ci_low",
                        "p50_e2el_ms_ci_high",
                        "p90_e2el_ms",
                        "p99_e2el_ms",
                        "mean_connect_ms")));
        sb.append("\nEvery round pooled. Latency intervals are 95 % bootstraps over the cell's requests (mean "
                + "and median); throughput is the mean "
                + "of the rounds with a t interval across them (empty with one round). A percentile "
                + "is reported only when at least 10 requests "
                + "lie beyond it (the median needs 20 per cell, p90 100, p99 1,000); an empty cell "
                + "means too few requests, not zero.\n");
        sb.append(Overheads.markdown(d));
        sb.append(Control.markdown(d));
        sb.append(Rounds.markdown(d));
        sb.append(Breakdown.markdown(d));
        d.cpu().ifPresent(c -> {
            sb.append("\n## CPU per request (ms)\n\nCPU time each process spent per request on the leg, "
                            + "read before and after it: ")
                    .append("the client JVM (in-process: the client and the engine), the serve JVM, the "
                            + "balancer's JVM. Empty: not on the path. ")
                    .append("Child processes are read from /proc in 10 ms ticks. The machine's 1-minute load "
                            + "average before the leg and the CPU ")
                    .append("time the hypervisor stole during it say whether something else was running, and the CPU "
                            + "the local JVMs' JIT compilers used during it (every round's, in ms) whether one of them "
                            + "was still warming.\n\n");
            sb.append(table(
                    c,
                    List.of(
                            "topology",
                            "connection",
                            "workload",
                            "requests",
                            "client_cpu_ms_per_request",
                            "server_cpu_ms_per_request",
                            "lb_cpu_ms_per_request",
                            "load_average_before",
                            "steal_ms",
                            "compiler_cpu_ms")));
        });
        sb.append(ServerMetrics.markdown(d));
        if (Timeline.has(d.dir()))
            sb.append("\n## Timeline\n\n[`")
                    .append(Timeline.FILE)
                    .append("`](")
                    .append(Timeline.FILE)
                    .append(") holds this run as one timeline: the client's requests (waiting to be sent, to the first "
                            + "token, the rest), the balancer's (picking a backend, each attempt with its connect, the "
                            + "relay), serve's (parse, queue, prefill, decode, serialise), every engine step with its "
                            + "batch, each weight change (stage, drain, commit) and the trainer's steps, one process "
                            + "per JVM and one track per port and engine; a request's spans share its W3C trace id. "
                            + "Open it at https://ui.perfetto.dev (Open trace file; the file stays in the browser) "
                            + "or in chrome://tracing.\n");
        sb.append(Limitations.markdown(d));
        sb.append(SelfChecks.markdown(d));
        d.sweep().ifPresent(sw -> {
            sb.append("\n## Throughput vs concurrency (keep-alive)\n\n");
            sb.append(table(
                    sw,
                    List.of(
                            "topology",
                            "concurrency",
                            "request_throughput",
                            "output_throughput",
                            "output_throughput_ci_low",
                            "output_throughput_ci_high",
                            "mean_e2el_ms",
                            "p99_e2el_ms")));
        });
        d.freshness().ifPresent(f -> {
            sb.append("\n## Weight freshness\n\n");
            sb.append("Each step generates a batch, then the trainer publishes new weights; the next "
                            + "batch starts at once. ")
                    .append("Lag = trainer version when a request was sent minus the version it was sampled "
                            + "under (mean_lag: each request's ")
                    .append("oldest token; token_weighted_lag: every token; mixed_requests: requests whose "
                            + "samples span two versions). ")
                    .append("bytes_per_update: bytes moved to all servers per version. mean_step_ms: wall "
                            + "time per training step, ")
                    .append("the slower of generating a batch and the update before it (at most one update is "
                            + "in flight); mean_rollout_ms: generating the batch alone. ")
                    .append("The trainer recomputes the logprobs of the first sample of every group under its "
                            + "current weights: ")
                    .append("mean_abs_logprob_gap is the mean |rollout − trainer| per token and kl_k3 the k3 "
                            + "estimate of KL(rollout ‖ trainer), ")
                    .append("both in nats per token.\n\n");
            d.run()
                    .map(r -> r.path("config").path("fleet").path("assumptions"))
                    .filter(a -> a.isArray() && !a.isEmpty())
                    .ifPresent(a -> {
                        sb.append("On the simulated fleet: push-all, rolling, tree and storage move a "
                                        + "scaled payload over the shaped links (see ")
                                .append("`sop/sim-predict-a-pod.md`); predicted_propagation_ms is bytes over "
                                        + "rates beside each measured mean_propagation_ms. ")
                                .append("The trainer's own cost (mean_update_ms) is not simulated. Assumptions:\n\n");
                        a.forEach(x -> sb.append("- ").append(x.asText()).append('\n'));
                        sb.append('\n');
                    });
            sb.append(table(
                    f,
                    List.of(
                            "strategy",
                            "steps",
                            "samples",
                            "mean_step_ms",
                            "mean_rollout_ms",
                            "mean_update_ms",
                            "mean_propagation_ms",
                            "predicted_propagation_ms",
                            "bytes_per_update",
                            "lost",
                            "retried",
                            "mean_lag",
                            "max_lag",
                            "token_weighted_lag",
                            "mixed_requests",
                            "mean_abs_logprob_gap",
                            "kl_k3")));
            sb.append(tunixNames(f));
        });
        sb.append("\n## Plots\n\n");
        for (String p : PLOTS)
            sb.append("![").append(p).append("](plots/").append(p).append(")\n");
        if (d.metrics().isPresent())
            sb.append("![")
                    .append(ServerMetrics.PLOT)
                    .append("](plots/")
                    .append(ServerMetrics.PLOT)
                    .append(")\n");
        return sb.toString();
    }

    /**
     * The freshness loop's step figures under Tunix's metric names, in seconds, so a Tunix run and this one line up in
     * one table: a step's wall time, its batch's generation, the time until every server serves the new weights, and
     * that time's share of the step.
     */
    static String tunixNames(Table f) {
        StringColumn strategy = StringColumn.create("strategy");
        DoubleColumn step = DoubleColumn.create("perf/step_time"),
                rollout = DoubleColumn.create("perf/mean/rollout_time"),
                sync = DoubleColumn.create("perf/weight_sync_time"),
                ratio = DoubleColumn.create("perf/weight_sync_ratio");
        for (Row r : f) {
            double s = seconds(f, r, "mean_step_ms"), w = seconds(f, r, "mean_propagation_ms");
            strategy.append(r.getString("strategy"));
            step.append(s);
            rollout.append(seconds(f, r, "mean_rollout_ms"));
            sync.append(w);
            ratio.append(w / s);
        }
        Table t = Table.create("tunix", strategy, step, rollout, sync, ratio);
        return "\nThe same steps under Tunix's metric names (seconds):\n\n" + table(t, t.columnNames());
    }

    /** A column in ms as seconds; NaN (an empty cell) where a folder written before lacks it or the cell is empty. */
    private static double seconds(Table t, Row r, String column) {
        return t.containsColumn(column) && !r.isMissing(column) ? r.getNumber(column) / 1e3 : Double.NaN;
    }

    /** The findings, each with its verdict (see {@link Findings}). */
    public static List<String> findings(RunData d) {
        return Findings.of(d);
    }

    static String table(Table t, List<String> cols) {
        List<String> present = cols.stream().filter(t::containsColumn).toList();
        StringBuilder sb =
                new StringBuilder("| ").append(String.join(" | ", present)).append(" |\n|");
        present.forEach(c -> sb.append("---|"));
        sb.append('\n');
        for (Row r : t) {
            sb.append("| ");
            for (String c : present) {
                String v;
                if (r.isMissing(c)) v = "";
                else if (t.column(c).type() == tech.tablesaw.api.ColumnType.STRING) v = r.getString(c);
                else if (t.column(c).type() == tech.tablesaw.api.ColumnType.BOOLEAN)
                    v = String.valueOf(r.getBoolean(c));
                else {
                    double x = r.getNumber(c);
                    v = x == Math.rint(x) && Math.abs(x) < 1e9
                            ? String.valueOf((long) x)
                            : Math.abs(x) < 0.01
                                    ? String.format(Locale.ROOT, "%.2e", x)
                                    : String.format(Locale.ROOT, "%.2f", x);
                }
                sb.append(v).append(" | ");
            }
            sb.setLength(sb.length() - 1);
            sb.append('\n');
        }
        return sb.toString();
    }
}
