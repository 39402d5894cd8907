package dev.rolloutlab.report;

import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Verdict;
import dev.rolloutlab.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.style.Styler;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

/**
 * The report of a shared-prefix run ({@code compare --workload groups|sessions}): per leg, the prompt tokens each
 * sample still computed, the cache's hit rate, throughput, output tokens per CPU-second and TTFT with their intervals
 * over rounds, a verdict on each way of sending against in-process with N engines, and plots of each with in-process as
 * the reference line.
 */
public final class PrefixReport {
    /** The leg every other is held to: N in-process engines, each group or session kept on one. */
    public static final String REFERENCE = "inprocN/affinity";
    /** Within this fraction of the reference's throughput, a way of sending is as good as in-process. */
    public static final double THRESHOLD = 0.15;

    public static final String THROUGHPUT_PLOT = "prefix_throughput.png",
            PREFILL_PLOT = "prefix_prefill.png",
            CPU_PLOT = "prefix_cpu.png";

    private PrefixReport() {}

    /** A shared-prefix run's figures per leg ({@code prefix.csv}). */
    public static Table figures(Path dir) {
        return read(dir.resolve("prefix.csv"));
    }

    /** Output throughput per leg, in-process with N engines as the line. */
    public static CategoryChart throughputChart(Table figures) {
        return chart(
                figures,
                "Output throughput per way of sending",
                "output tokens / s",
                "output_tok_per_sec",
                "output_tok_per_sec_low",
                "output_tok_per_sec_high");
    }

    /** Output tokens per CPU-second of the experiment's processes, per leg, in-process with N engines as the line. */
    public static CategoryChart cpuChart(Table figures) {
        return chart(
                figures,
                "Output tokens per CPU-second (all the experiment's processes, stolen time excluded)",
                "output tokens / CPU-second",
                "output_tok_per_cpu_sec",
                "output_tok_per_cpu_sec_low",
                "output_tok_per_cpu_sec_high");
    }

    /** Prompt tokens each sample still computed per leg, in-process with N engines as the line. */
    public static CategoryChart prefillChart(Table figures) {
        return chart(
                figures,
                "Prompt tokens still computed per sample, after caches and routing",
                "prompt tokens computed per sample",
                "computed_prefill_per_sample",
                "computed_prefill_low",
                "computed_prefill_high");
    }

    /** Reads {@code prefix.csv} and {@code prefix_rounds.csv} in {@code dir}; writes REPORT.md and the plots. */
    public static Path write(Path dir) {
        Table figures = figures(dir), rounds = read(dir.resolve("prefix_rounds.csv"));
        if (!rounds.columnNames().containsAll(List.of("slot", "counted")))
            throw new IllegalArgumentException(dir + ": written by an older compare, before each leg was held to the "
                    + "reference runs around it; run compare --workload again");
        String workload = "groups or sessions", answers = "";
        int stolenPct = -1;
        try {
            var config = Json.parse(Files.readString(dir.resolve("run.json"))).path("config");
            workload = config.path("workload").asText(workload);
            stolenPct = config.path("remeasured_above_stolen_pct").asInt(-1);
            answers = config.path("answers").asText("");
        } catch (java.io.IOException e) {
            // a folder without run.json still gets its report, under a general title
        }
        StringBuilder md = new StringBuilder();
        md.append("# Shared prefixes: ")
                .append(workload)
                .append(" in-process, over client fanout and through the balancer\n\n");
        md.append("Prefix caches on in every engine. Every leg of every round sent prompts no engine had seen, so no "
                + "leg profited from another's cache. Each leg was warmed first, a group or session at a time, until "
                + "its throughput stopped rising; no warm-up run is counted. Each round ran " + REFERENCE
                + " before and after every other leg. Intervals: 95 % t over runs.\n\n");
        if (answers.startsWith("whole"))
            md.append("Answers came whole, as an RL trainer asks for rollouts (`--stream` streams them token by token,"
                    + " which wakes serve's writer, the balancer's relay and the client once a token on the cores the"
                    + " engines decode on). A whole answer's first token arrives with its last, so TTFT here is each"
                    + " request's e2el less the engine's decode: the way in, the queue and the prefill.\n\n");
        else if (answers.equals("streamed")) md.append("Answers were streamed token by token (`--stream`).\n\n");
        if (stolenPct >= 0) {
            int again = rounds.where(rounds.booleanColumn("counted").isFalse()).rowCount();
            md.append(String.format(
                    Locale.ROOT,
                    "A run during which the hypervisor stole more than %d %% of the machine's CPU was measured again"
                            + " (at most twice): %d run(s) here, kept in prefix_rounds.csv with counted = false.%n%n",
                    stolenPct,
                    again));
        }
        boolean cpu = figures.columnNames().contains("output_tok_per_cpu_sec");
        md.append("| leg | routing | runs | output tok/s |"
                + (cpu ? " output tok per CPU-s | CPU ms per output token: this JVM / serve / balancers |" : "")
                + " prompt tokens computed per sample | cache hit rate | routed by the balancer's guess | mean TTFT ms"
                + " | mean e2el ms |\n"
                + "|---|---|---|---|" + (cpu ? "---|---|" : "") + "---|---|---|---|---|\n");
        for (Row r : figures) {
            md.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %d | %s |%s %s | %.0f %% | %s | %s | %.1f |%n",
                    r.getString("leg"),
                    r.getString("routing"),
                    (int) r.getDouble("runs"),
                    withCi(r, "output_tok_per_sec", "output_tok_per_sec_low", "output_tok_per_sec_high", "%.0f"),
                    cpu
                            ? " "
                                    + withCi(
                                            r,
                                            "output_tok_per_cpu_sec",
                                            "output_tok_per_cpu_sec_low",
                                            "output_tok_per_cpu_sec_high",
                                            "%.0f")
                                    + " | " + cpuSplit(rounds, r.getString("leg")) + " |"
                            : "",
                    withCi(r, "computed_prefill_per_sample", "computed_prefill_low", "computed_prefill_high", "%.1f"),
                    100 * r.getDouble("cache_hit_rate"),
                    percentOrDash(r.getDouble("routed_by_guess")),
                    withCi(r, "mean_ttft_ms", "mean_ttft_low", "mean_ttft_high", "%.1f"),
                    r.getDouble("mean_e2el_ms")));
        }
        md.append("\nRouted by the balancer's guess: the share of requests cache-aware sent where their prompt's "
                + "prefix went before, or sticky sent to their key's backend, rather than by load (from the "
                + "balancer's /metrics); the cache hit rate beside it is what the engines found.\n");
        if (figures.columnNames().contains("decode_rows_per_step")) steps(md, figures);
        md.append("\n## Against in-process\n\n");
        md.append("Each leg against " + REFERENCE + " measured just before and after it, with the threshold T = "
                + Math.round(100 * THRESHOLD) + " % of in-process's figure: \"negligible\" means within it, "
                + "\"confirmed\" means worse by more. The prompt tokens computed follow from where each request "
                + "landed and what the caches held, not from the machine's speed, so their verdict holds on a noisy "
                + "machine. The CPU each output token cost says where the compute went, process by process; the kernel "
                + "counts it without the time the hypervisor stole, so it moves less with the machine than wall-clock "
                + "throughput, which moves with everything else the machine does. Both are paired with in-process as "
                + "a ratio to the reference runs around each leg, so a stretch that slows both alike moves "
                + "neither.\n\n");
        for (Row r : figures) {
            String leg = r.getString("leg");
            if (leg.equals(REFERENCE)) continue;
            double[] tok = column(rounds, leg, "output_tok_per_sec"),
                    pre = column(rounds, leg, "computed_prefill_per_sample"),
                    refTok = referenceBeside(rounds, leg, "output_tok_per_sec"),
                    refPre = referenceBeside(rounds, leg, "computed_prefill_per_sample");
            if (tok.length == 0 || Arrays.stream(refTok).anyMatch(Double::isNaN)) continue;
            md.append("- ")
                    .append(leg)
                    .append(" computes more prompt per sample than in-process: ")
                    .append(Verdict.describe(
                            Confidence.pairedDifference(pre, refPre, 0.95),
                            THRESHOLD * Confidence.mean(refPre),
                            "tokens"));
            if (cpu)
                md.append("; it costs more CPU per output token: ")
                        .append(Verdict.describe(
                                percentMore(
                                        referenceBeside(rounds, leg, "output_tok_per_cpu_sec"),
                                        column(rounds, leg, "output_tok_per_cpu_sec")),
                                100 * THRESHOLD,
                                "%"));
            md.append("; in-process's wall-clock throughput is higher: ")
                    .append(Verdict.describe(percentMore(refTok, tok), 100 * THRESHOLD, "%"))
                    .append('\n');
        }
        md.append("\n![output throughput per leg](plots/")
                .append(THROUGHPUT_PLOT)
                .append(")\n");
        md.append("\n![prompt tokens computed per sample, per leg](plots/")
                .append(PREFILL_PLOT)
                .append(")\n");
        if (cpu)
            md.append("\n![output tokens per CPU-second, per leg](plots/")
                    .append(CPU_PLOT)
                    .append(")\n");
        Path plots = dir.resolve("plots");
        Charts.save(throughputChart(figures), plots.resolve(THROUGHPUT_PLOT));
        Charts.save(prefillChart(figures), plots.resolve(PREFILL_PLOT));
        if (cpu) Charts.save(cpuChart(figures), plots.resolve(CPU_PLOT));
        Path out = dir.resolve("REPORT.md");
        Json.writeText(out, md.toString());
        return out;
    }

    /**
     * One bar per leg of {@code metric} (whiskers: its 95 % CI over rounds), and the in-process reference's value as a
     * line across every leg.
     */
    public static CategoryChart chart(
            Table figures, String title, String yTitle, String metric, String low, String high) {
        CategoryChart chart = new CategoryChartBuilder()
                .width(1000)
                .height(520)
                .title(title)
                .xAxisTitle("leg (topology / routing)")
                .yAxisTitle(yTitle)
                .build();
        List<String> legs = new ArrayList<>();
        List<Double> ys = new ArrayList<>(), errors = new ArrayList<>();
        double reference = Double.NaN;
        for (Row r : figures) {
            legs.add(r.getString("leg"));
            ys.add(r.getDouble(metric));
            errors.add(half(r, low, high));
            if (r.getString("leg").equals(REFERENCE)) reference = r.getDouble(metric);
        }
        chart.addSeries("per leg (whiskers: 95 % CI over runs)", legs, ys, errors);
        if (!Double.isNaN(reference)) {
            List<Double> line = new ArrayList<>();
            for (int i = 0; i < legs.size(); i++) line.add(reference);
            chart.addSeries("in-process, N engines (" + REFERENCE + ")", legs, line)
                    .setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line)
                    .setMarker(org.knowm.xchart.style.markers.SeriesMarkers.NONE);
        }
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setXAxisLabelRotation(20);
        chart.getStyler().setYAxisDecimalPattern("#,##0");
        chart.getStyler().setYAxisMin(0.0); // both figures are counts: a whisker below zero says only "wide"
        chart.getStyler().setOverlapped(true);
        return chart;
    }

    /**
     * Where the engines' time went, leg by leg: how well their steps batched (sequences decoded per step) and how long
     * the steps took per output token. Legs that keep a group together batch alike, so a leg whose steps take longer
     * for the same batches lost its cores to something else, not to the engine's work.
     */
    private static void steps(StringBuilder md, Table figures) {
        md.append("\n## Where the engines' time went\n\n")
                .append("Read from every engine's step counters before and after each run (serve's on /get_load), over"
                        + " all of a leg's counted runs.\n\n")
                .append("| leg | sequences decoded per engine step | engine step ms per output token |\n")
                .append("|---|---|---|\n");
        for (Row r : figures)
            md.append(String.format(
                    Locale.ROOT,
                    "| %s | %.2f | %.2f |%n",
                    r.getString("leg"),
                    r.getDouble("decode_rows_per_step"),
                    r.getDouble("step_ms_per_output_token")));
    }

    /** {@code estimate [low, high]}, or the estimate alone where one round gave no interval. */
    private static String withCi(Row r, String estimate, String low, String high, String format) {
        String e = String.format(Locale.ROOT, format, r.getDouble(estimate));
        if (Double.isNaN(r.getDouble(low))) return e + " (one round: no CI)";
        return e + String.format(Locale.ROOT, " [" + format + ", " + format + "]", r.getDouble(low), r.getDouble(high));
    }

    /** A share as a percentage, or a dash where the leg has no balancer that guesses. */
    private static String percentOrDash(double share) {
        return Double.isNaN(share) ? "—" : String.format(Locale.ROOT, "%.0f %%", 100 * share);
    }

    private static double half(Row r, String low, String high) {
        double w = (r.getDouble(high) - r.getDouble(low)) / 2;
        return Double.isNaN(w) ? 0 : w;
    }

    /**
     * How much more {@code reference} got than {@code leg} in the same round, in percent of the leg's (of output tokens
     * per CPU-second: how much more CPU the leg spends per token), with its 95 % t-interval over rounds: a round that
     * slows every leg alike moves no ratio.
     */
    static Confidence.Interval percentMore(double[] reference, double[] leg) {
        double[] pct = new double[Math.min(reference.length, leg.length)];
        for (int i = 0; i < pct.length; i++) pct[i] = 100 * (reference[i] / leg[i] - 1);
        return Confidence.tMean(pct, 0.95);
    }

    /** CPU ms per output token over every round of {@code leg}: this JVM / serve / the balancers. */
    private static String cpuSplit(Table rounds, String leg) {
        double tokens = sum(rounds, leg, "output_tokens");
        return String.format(
                Locale.ROOT,
                "%.2f / %.2f / %.2f",
                sum(rounds, leg, "client_cpu_ms") / tokens,
                sum(rounds, leg, "serve_cpu_ms") / tokens,
                sum(rounds, leg, "lb_cpu_ms") / tokens);
    }

    private static double sum(Table rounds, String leg, String metric) {
        return Arrays.stream(column(rounds, leg, metric)).sum();
    }

    /** {@code metric} of each run of {@code leg}, in the order they ran. */
    private static double[] column(Table rounds, String leg, String metric) {
        return runs(rounds, leg).numberColumn(metric).asDoubleArray();
    }

    /**
     * For each run of {@code leg} in {@link #column} order, the reference's {@code metric} around it: the mean of the
     * reference runs just before and just after it in its round (where a run was stopped, the one there is); NaN where
     * there is none.
     */
    static double[] referenceBeside(Table rounds, String leg, String metric) {
        Table mine = runs(rounds, leg), ref = runs(rounds, REFERENCE);
        double[] out = new double[mine.rowCount()];
        for (int i = 0; i < out.length; i++) {
            int round = (int) mine.numberColumn("round").getDouble(i);
            int slot = (int) mine.numberColumn("slot").getDouble(i);
            double sum = 0;
            int n = 0;
            for (int j = 0; j < ref.rowCount(); j++) {
                if ((int) ref.numberColumn("round").getDouble(j) != round) continue;
                if (Math.abs((int) ref.numberColumn("slot").getDouble(j) - slot) != 1) continue;
                sum += ref.numberColumn(metric).getDouble(j);
                n++;
            }
            out[i] = n == 0 ? Double.NaN : sum / n;
        }
        return out;
    }

    /** The counted runs of {@code leg} (a run measured again after the hypervisor stole from it is not). */
    private static Table runs(Table rounds, String leg) {
        Table t = rounds.where(rounds.stringColumn("leg").isEqualTo(leg));
        return t.where(t.booleanColumn("counted").isTrue()).sortAscendingOn("round", "slot");
    }

    private static Table read(Path csv) {
        if (!Files.exists(csv))
            throw new IllegalArgumentException(csv + ": missing; was this a compare --workload run?");
        return RunData.csv(csv, csv.getFileName().toString());
    }
}
