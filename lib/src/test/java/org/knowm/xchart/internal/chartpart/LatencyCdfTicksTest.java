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

    /**
     * A run of thousands of requests is drawn through a hundred of them and its slowest: through every one, a dashed
     * curve drew solid. The points stay the run's own order statistics, so the curve still rises through the data.
     */
    @Test
    void aLongRunIsDrawnThroughAHundredOrderStatisticsAndItsSlowestRequest() {
        XYChart chart = Charts.latencyCdfStyle(new org.knowm.xchart.XYChartBuilder().build());
        double[] lat = new double[5_000];
        for (int i = 0; i < lat.length; i++) lat[i] = 1 + (i * 7919 % lat.length) / 100.0; // 1..51 ms, shuffled
        Charts.addCdf(chart, "s", lat);
        double[] x = chart.getSeriesMap().get("s").getXData(),
                y = chart.getSeriesMap().get("s").getYData();
        assertEquals(102, x.length, "the first point at 0, a hundred order statistics, the slowest request");
        assertEquals(0, y[0]);
        assertEquals(50.99, x[x.length - 1], 1e-9);
        assertEquals(0.9999, y[y.length - 1], 1e-9);
        for (int k = 1; k < x.length; k++) {
            assertTrue(x[k] >= x[k - 1] && y[k] > y[k - 1], "rises at point " + k);
            // the point is the request at its plotting position: (i + 0.5) / n of them are faster by half
            int i = (int) Math.round(y[k] * lat.length - 0.5);
            assertEquals(1 + i / 100.0, x[k], 1e-9, "point " + k);
        }
    }
}
