package dev.rolloutlab.report;

import static dev.rolloutlab.report.Charts.H;
import static dev.rolloutlab.report.Charts.W;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import tech.tablesaw.api.Table;

/** The weight-freshness experiment's charts: staleness, update cost, and what staleness costs the trainer. */
public final class FreshnessCharts {
    private FreshnessCharts() {}

    /** How many versions behind the trainer each request was (its oldest token), per weight-update strategy. */
    public static CategoryChart stalenessHistogram(RunData d) {
        CategoryChart chart = new CategoryChartBuilder()
                .width(W)
                .height(H)
                .title("Sample staleness by update strategy")
                .xAxisTitle("versions behind the trainer")
                .yAxisTitle("samples")
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        Table s = d.staleness().orElse(null);
        if (s == null || s.isEmpty()) {
            chart.addSeries("no freshness run", List.of("0"), List.of(0));
            return chart;
        }
        int max = (int) Math.max(1, s.doubleColumn("lag").max());
        List<String> cats = new ArrayList<>();
        for (int i = 0; i <= max; i++) cats.add(String.valueOf(i));
        for (String strategy : new LinkedHashSet<>(s.stringColumn("strategy").asList())) {
            List<Integer> counts = new ArrayList<>();
            for (int i = 0; i <= max; i++) {
                int lag = i;
                counts.add(s.where(s.stringColumn("strategy")
                                .isEqualTo(strategy)
                                .and(s.doubleColumn("lag").isEqualTo(lag)))
                        .rowCount());
            }
            chart.addSeries(strategy, cats, counts);
        }
        return chart;
    }

    /** Trainer-side cost of an update and the time until every server serves the new weights, per strategy. */
    public static CategoryChart updateTimeline(RunData d) {
        CategoryChart chart = new CategoryChartBuilder()
                .width(W)
                .height(H)
                .title("Weight update: trainer cost and time to propagate")
                .xAxisTitle("strategy")
                .yAxisTitle("ms")
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        // eight strategies' names written level ran into each other
        chart.getStyler().setXAxisLabelRotation(30);
        Table f = d.freshness().orElse(null);
        if (f == null || f.isEmpty()) {
            chart.addSeries("no freshness run", List.of("-"), List.of(0));
            return chart;
        }
        List<String> cats = f.stringColumn("strategy").asList();
        chart.addSeries(
                "trainer-side cost",
                cats,
                positive(f.doubleColumn("mean_update_ms").asList()));
        chart.addSeries(
                "until all serve it",
                cats,
                positive(f.doubleColumn("mean_propagation_ms").asList()));
        return chart;
    }

    /** Mean |rollout − trainer| logprob per token, per strategy and training step: the price of staleness. */
    public static XYChart logprobGap(RunData d) {
        return perStep(
                d,
                "Trainer vs rollout: mean |Δ logprob| per token",
                "mean |Δ logprob| (nats per token)",
                "mean_abs_gap");
    }

    /** The k3 estimate of KL(rollout ‖ trainer) per token, per strategy and training step. */
    public static XYChart klEstimate(RunData d) {
        return perStep(
                d,
                "Trainer vs rollout: KL estimate (k3) per token",
                "KL(rollout || trainer) (nats per token)",
                "kl_k3");
    }

    private static XYChart perStep(RunData d, String title, String yTitle, String column) {
        XYChart chart = new XYChartBuilder()
                .width(W)
                .height(H)
                .title(title)
                .xAxisTitle("training step")
                .yAxisTitle(yTitle)
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisDecimalPattern("0");
        Table g = d.logprobGaps().orElse(null);
        if (g == null || g.isEmpty()) {
            // a fleet's simulated engines sample random tokens: the freshness run has nothing to score
            chart.addSeries(
                    d.freshness().isPresent() ? "nothing scored (simulated engines)" : "no freshness run",
                    new double[] {0},
                    new double[] {0});
            return chart;
        }
        Map<String, double[][]> series = new LinkedHashMap<>();
        double max = 0;
        for (String strategy : new LinkedHashSet<>(g.stringColumn("strategy").asList())) {
            Table mine = g.where(g.stringColumn("strategy").isEqualTo(strategy));
            List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
            for (double step : new TreeSet<>(mine.doubleColumn("step").asList())) {
                Table at = mine.where(mine.doubleColumn("step").isEqualTo(step));
                double sum = 0, n = 0;
                for (int i = 0; i < at.rowCount(); i++) {
                    double tokens = at.doubleColumn("tokens").getDouble(i),
                            v = at.doubleColumn(column).getDouble(i);
                    if (tokens > 0 && !Double.isNaN(v)) {
                        sum += v * tokens;
                        n += tokens;
                    }
                }
                if (n == 0) continue;
                xs.add(step);
                ys.add(sum / n); // token-weighted, as the summary table
                max = Math.max(max, sum / n);
            }
            if (!xs.isEmpty())
                series.put(strategy, new double[][] {
                    xs.stream().mapToDouble(Double::doubleValue).toArray(),
                    ys.stream().mapToDouble(Double::doubleValue).toArray()
                });
        }
        // XChart draws no ticks for a range as small as a per-token KL (1e-6 nats): plot in milli- or micro-nats
        // instead
        double scale = max >= 1e-1 || max == 0 ? 1 : max >= 1e-4 ? 1e3 : 1e6;
        String unit = scale == 1 ? "nats" : scale == 1e3 ? "millinats" : "micronats";
        chart.setYAxisTitle(yTitle.replace("nats", unit));
        chart.getStyler().setYAxisDecimalPattern("#,##0.###");
        chart.getStyler().setYAxisMin(0.0);
        for (var e : series.entrySet()) {
            double[] y = e.getValue()[1].clone();
            for (int i = 0; i < y.length; i++) y[i] *= scale;
            chart.addSeries(e.getKey(), e.getValue()[0], y);
        }
        return chart;
    }

    private static List<Double> positive(List<Double> xs) {
        return xs.stream().map(x -> x == null || Double.isNaN(x) ? 0.0 : x).toList();
    }
}
