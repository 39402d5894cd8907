package dev.rolloutlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.bench.Confidence;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * Turns a results folder into {@code plots/*.png} and {@code REPORT.md}: each rule of thumb from the source SOP,
 * stated with the number from this run that confirms or contradicts it. Deterministic for a given folder.
 */
public final class Report {
    public static final List<String> PLOTS = List.of("latency_cdf.png", "throughput.png", "overhead.png",
            "keepalive_vs_close.png", "staleness.png", "update_timeline.png", "throughput_vs_concurrency.png",
            "breakdown.png");

    private Report() {
    }

    /** Writes the plots and REPORT.md into {@code dir}; returns the REPORT.md path. */
    public static Path write(Path dir) {
        RunData d = RunData.load(dir);
        Path plots = dir.resolve("plots");
        Charts.save(Charts.latencyCdf(d), plots.resolve(PLOTS.get(0)));
        Charts.save(Charts.throughput(d), plots.resolve(PLOTS.get(1)));
        Charts.save(Charts.overhead(d), plots.resolve(PLOTS.get(2)));
        Charts.save(Charts.keepAliveVsClose(d), plots.resolve(PLOTS.get(3)));
        Charts.save(Charts.stalenessHistogram(d), plots.resolve(PLOTS.get(4)));
        Charts.save(Charts.updateTimeline(d), plots.resolve(PLOTS.get(5)));
        Charts.save(Charts.throughputVsConcurrency(d), plots.resolve(PLOTS.get(6)));
        Charts.save(Breakdown.chart(d), plots.resolve(PLOTS.get(7)));
        Path md = dir.resolve("REPORT.md");
        dev.rolloutlab.util.Json.writeText(md, markdown(d));
        return md;
    }

    public static String markdown(RunData d) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Rollout Lab report: HTTP fanout vs in-process\n\n");
        d.run().ifPresent(run -> {
            JsonNode m = run.path("machine");
            sb.append("Machine: ").append(m.path("cores").asText("?")).append(" cores (").append(m.path("cpu").asText("?"))
                    .append("), ").append(m.path("memory_gib").asText("?")).append(" GiB, ").append(m.path("java").asText("?"))
                    .append(", vector API ").append(m.path("vector_api").asText("?")).append(".\n\n");
            sb.append("Config: `").append(run.path("config").toString()).append("`\n\n");
            if (run.path("incomplete").asBoolean()) {
                sb.append("**This run is incomplete:** ").append(run.path("incomplete_reason").asText()).append(". The numbers below cover what was measured.\n\n");
            }
        });
        sb.append("## Findings\n\n");
        for (String f : findings(d)) sb.append("- ").append(f).append('\n');
        sb.append("\n## Latency and throughput by topology\n\n");
        sb.append(table(d.legs(), List.of("topology", "connection", "workload", "completed", "failed", "request_throughput",
                "output_throughput", "mean_ttft_ms", "mean_tpot_ms", "mean_e2el_ms", "mean_e2el_ms_ci_low", "mean_e2el_ms_ci_high", "p99_e2el_ms",
                "mean_connect_ms", "overhead_ms_per_request")));
        sb.append("\nThe interval of mean e2el is a 95 % bootstrap over the cell's requests. A percentile is reported only when at least 10 "
                + "requests lie beyond it (p99 needs 1,000 per cell, p90 100); an empty cell means too few requests, not zero.\n");
        sb.append(Breakdown.markdown(d));
        d.cpu().ifPresent(c -> {
            sb.append("\n## CPU per request (ms)\n\nCPU time each process spent per request on the leg, read before and after it: ")
                    .append("the client JVM (in-process: the client and the engine), the serve JVM, the balancer's JVM. Empty: not on the path. ")
                    .append("Child processes are read from /proc in 10 ms ticks. The machine's 1-minute load average before the leg and the CPU ")
                    .append("time the hypervisor stole during it say whether something else was running.\n\n");
            sb.append(table(c, List.of("topology", "connection", "workload", "requests", "client_cpu_ms_per_request",
                    "server_cpu_ms_per_request", "lb_cpu_ms_per_request", "load_average_before", "steal_ms")));
        });
        sb.append(Limitations.markdown(d));
        sb.append(SelfChecks.markdown(d));
        d.sweep().ifPresent(sw -> {
            sb.append("\n## Throughput vs concurrency (keep-alive)\n\n");
            sb.append(table(sw, List.of("topology", "concurrency", "request_throughput", "output_throughput", "mean_e2el_ms", "p99_e2el_ms")));
        });
        d.freshness().ifPresent(f -> {
            sb.append("\n## Weight freshness\n\n");
            sb.append("Each step generates a batch, then the trainer publishes new weights; the next batch starts at once. ")
                    .append("Lag = trainer version when a request was sent minus the version it was sampled under.\n\n");
            sb.append(table(f, List.of("strategy", "steps", "samples", "mean_update_ms", "mean_propagation_ms", "lost", "retried", "mean_lag", "max_lag")));
        });
        sb.append("\n## Plots\n\n");
        for (String p : PLOTS) sb.append("![").append(p).append("](plots/").append(p).append(")\n");
        return sb.toString();
    }

    public static List<String> findings(RunData d) {
        List<String> out = new ArrayList<>();
        Table legs = d.legs();
        List<String> workloads = new ArrayList<>(new LinkedHashSet<>(legs.stringColumn("workload").asList()));
        if (workloads.isEmpty()) {
            out.add("No latency legs were measured.");
            return out;
        }
        int flagged = SelfChecks.flags(d).size();
        if (flagged > 0) out.add("**Read with care: the self-checks flagged " + flagged + " problem(s)** (see Self-checks below).");
        String shortest = workloads.get(0), longest = workloads.get(workloads.size() - 1);
        Double inShort = Charts.find(legs, "inproc", "none", shortest, "mean_e2el_ms");
        Double httpShort = Charts.find(legs, "http1", "keep-alive", shortest, "mean_e2el_ms");
        Double ovShort = Charts.find(legs, "http1", "keep-alive", shortest, "overhead_ms_per_request");
        Double ovLong = Charts.find(legs, "http1", "keep-alive", longest, "overhead_ms_per_request");
        Double inLong = Charts.find(legs, "inproc", "none", longest, "mean_e2el_ms");
        if (inShort != null && httpShort != null && ovShort != null) {
            Confidence.Interval diff = Pairs.e2elDifference(d, "http1", "keep-alive", "inproc", "none", shortest);
            out.add(String.format(Locale.ROOT, "**In-process has lower per-request overhead** — %s: on %s, in-process %.2f ms vs one HTTP port %.2f ms (keep-alive), "
                    + "i.e. %+.2f ms per request%s.", Pairs.verdict(diff), shortest, inShort, httpShort, ovShort, Pairs.describe(diff)));
        }
        if (ovShort != null && ovLong != null && inShort != null && inLong != null && !shortest.equals(longest)) {
            double relShort = ovShort / inShort * 100, relLong = ovLong / inLong * 100;
            out.add(String.format(Locale.ROOT, "**Overhead matters most for short prompts and completions** — %s: HTTP adds %.1f%% on %s but %.1f%% on %s "
                    + "(%.2f ms vs %.2f ms absolute).", relShort > relLong ? "confirmed" : "contradicted", relShort, shortest, relLong, longest, ovShort, ovLong));
        }
        Double keep = Charts.find(legs, "http1", "keep-alive", shortest, "mean_e2el_ms");
        Double close = Charts.find(legs, "http1", "close", shortest, "mean_e2el_ms");
        Double conn = Charts.find(legs, "http1", "close", shortest, "mean_connect_ms");
        if (keep != null && close != null) {
            Confidence.Interval diff = Pairs.e2elDifference(d, "http1", "close", "http1", "keep-alive", shortest);
            out.add(String.format(Locale.ROOT, "**`Connection: close` costs more than keep-alive** — %s: %.2f ms vs %.2f ms on %s (%+.2f ms; %.3f ms of it opening connections)%s.",
                    Pairs.verdict(diff), close, keep, shortest, close - keep, conn == null ? Double.NaN : conn, Pairs.describe(diff)));
        }
        Double t1 = Charts.find(legs, "http1", "keep-alive", longest, "output_throughput");
        Double tn = Charts.find(legs, "httpN", "keep-alive", longest, "output_throughput");
        Double tlb = Charts.find(legs, "lb", "keep-alive", longest, "output_throughput");
        Double tin = Charts.find(legs, "inproc", "none", longest, "output_throughput");
        if (t1 != null && tn != null) {
            int cores = d.run().map(r -> r.path("machine").path("cores").asInt(0)).orElse(0);
            out.add(String.format(Locale.ROOT, "**HTTP fanout scales out** — on %s: one port %.1f tok/s, N ports with client fanout %.1f tok/s%s%s. "
                            + "Here all servers share this machine's %d cores, so more ports add engines but no compute: scale-out needs more hosts, "
                            + "which this run cannot show.", longest, t1, tn, tlb == null ? "" : String.format(Locale.ROOT, ", behind the LB %.1f tok/s", tlb),
                    tin == null ? "" : String.format(Locale.ROOT, ", in-process %.1f tok/s", tin), cores));
        }
        d.freshness().ifPresent(f -> {
            StringBuilder lags = new StringBuilder();
            Double inLag = null;
            for (Row r : f) {
                double lag = r.isMissing("mean_lag") ? Double.NaN : r.getNumber("mean_lag");
                if (r.getString("strategy").equals("inproc-swap")) inLag = lag;
                lags.append(String.format(Locale.ROOT, "%s %.2f (max %d, propagation %.0f ms, lost %d); ", r.getString("strategy"), lag,
                        (long) r.getNumber("max_lag"), r.isMissing("mean_propagation_ms") ? Double.NaN : r.getNumber("mean_propagation_ms"), (long) r.getNumber("lost")));
            }
            out.add("**In-process can be fully on-policy; HTTP fanout samples stale weights unless reloads are fast** — "
                    + (inLag != null && inLag == 0 ? "confirmed" : "see numbers") + ": mean version lag per strategy: " + lags.toString().replaceAll("; $", "") + ".");
        });
        return out;
    }

    static String table(Table t, List<String> cols) {
        List<String> present = cols.stream().filter(t::containsColumn).toList();
        StringBuilder sb = new StringBuilder("| ").append(String.join(" | ", present)).append(" |\n|");
        present.forEach(c -> sb.append("---|"));
        sb.append('\n');
        for (Row r : t) {
            sb.append("| ");
            for (String c : present) {
                String v;
                if (r.isMissing(c)) v = "";
                else if (t.column(c).type() == tech.tablesaw.api.ColumnType.STRING) v = r.getString(c);
                else if (t.column(c).type() == tech.tablesaw.api.ColumnType.BOOLEAN) v = String.valueOf(r.getBoolean(c));
                else {
                    double x = r.getNumber(c);
                    v = x == Math.rint(x) && Math.abs(x) < 1e9 ? String.valueOf((long) x) : String.format(Locale.ROOT, "%.2f", x);
                }
                sb.append(v).append(" | ");
            }
            sb.setLength(sb.length() - 1);
            sb.append('\n');
        }
        return sb.toString();
    }
}
