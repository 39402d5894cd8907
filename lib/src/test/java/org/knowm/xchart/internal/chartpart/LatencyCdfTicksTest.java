package org.knowm.xchart.internal.chartpart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rolloutlab.report.Charts;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;

/**
 * The ticks a reader sees on the latency CDF, computed by XChart's own tick calculators from the chart's styler (this
 * test sits in XChart's package because those calculators are package-private): numbers across the log axis, and a
 * fraction every tenth on the other.
 */
class LatencyCdfTicksTest {
    @Test
    void theLogLatencyAxisHasNumbersInsideEachDecadeAndTheFractionAxisATickEveryTenth() {
        var styler = Charts.latencyCdfStyle(new org.knowm.xchart.XYChartBuilder().build())
                .getStyler();
        List<String> x = new AxisTickCalculator_Logarithmic(Axis.Direction.X, 674, 0.9, 45, styler)
                .getTickLabels().stream().filter(l -> l != null && !l.isBlank()).toList();
        assertTrue(x.containsAll(List.of("1", "2", "5", "10", "20", "40")), "labels on the log axis: " + x);
        // the calculator also places ticks just outside the axis range, which the chart clips
        List<Double> y = new AxisTickCalculator_Number(Axis.Direction.Y, 433, 0, 1, styler)
                .getTickLabels().stream()
                        .map(Double::parseDouble)
                        .filter(v -> v >= 0 && v <= 1)
                        .toList();
        assertEquals(List.of(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0), y);
    }

    /**
     * XChart places the ticks of an axis whose data values are equally spaced at those values: a CDF of i / n would get
     * a tick every few n-ths that a label then misplaces. The chart's own y values must leave the ticks where the axis
     * alone puts them.
     */
    @Test
    void theCdfsValuesDoNotMoveTheFractionTicks() {
        XYChart chart = Charts.latencyCdfStyle(new org.knowm.xchart.XYChartBuilder().build());
        double[] lat = new double[168];
        for (int i = 0; i < lat.length; i++) lat[i] = 1 + i;
        Charts.addCdf(chart, "s", lat);
        List<Double> values = new ArrayList<>();
        for (double v : chart.getSeriesMap().get("s").getYData()) values.add(v);
        var styler = chart.getStyler();
        var alone = new AxisTickCalculator_Number(Axis.Direction.Y, 433, 0, 1, styler);
        var withData = new AxisTickCalculator_Number(Axis.Direction.Y, 433, 0, 1, values, styler);
        assertEquals(alone.getTickLocations(), withData.getTickLocations(), "ticks at " + withData.getTickLabels());
        // and i / n would have moved them: the failure this guards against
        List<Double> equallySpaced = new ArrayList<>();
        for (int i = 1; i <= 168; i++) equallySpaced.add(i / 168.0);
        assertNotEquals(
                alone.getTickLocations(),
                new AxisTickCalculator_Number(Axis.Direction.Y, 433, 0, 1, equallySpaced, styler).getTickLocations());
    }
}
