package org.knowm.xchart.internal.chartpart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rolloutlab.report.Charts;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/**
 * The numbers at the ends of a log x axis bounded by {@link Charts#logAxisOnTicks}, computed by XChart's own tick
 * calculator (package-private, hence this package): a sweep at 1 and 16 requests in flight, points set apart sideways,
 * must show a number beyond each end of its data, not stop at 10 with the 16-point unlabelled.
 */
class SweepAxisTicksTest {
    @Test
    void aLogAxisEndsOnLabelledTicksBeyondItsData() {
        XYChart chart = new XYChartBuilder().build();
        chart.getStyler().setXAxisLogarithmic(true).setXAxisLogarithmicDecadeOnly(false);
        chart.getStyler().setXAxisDecimalPattern("#,##0.#");
        double lo = 1 / 1.0816, hi = 16 * 1.0816; // four topologies, 4 % apart
        Charts.logAxisOnTicks(chart, lo, hi);
        double min = chart.getStyler().getXAxisMin(), max = chart.getStyler().getXAxisMax();
        assertEquals(0.9, min, 1e-12);
        assertEquals(20, max, 1e-12);
        List<String> labels = new AxisTickCalculator_Logarithmic(Axis.Direction.X, 674, min, max, chart.getStyler())
                .getTickLabels().stream().filter(l -> l != null && !l.isBlank()).toList();
        assertEquals("0.9", labels.get(0), "the first number: " + labels);
        assertEquals("20", labels.get(labels.size() - 1), "the last number: " + labels);
        assertTrue(labels.containsAll(List.of("1", "2", "5", "10")), "numbers between: " + labels);
    }

    @Test
    void dataOnATickKeepsThatTickAsTheEnd() {
        XYChart chart = new XYChartBuilder().build();
        Charts.logAxisOnTicks(chart, 2, 300);
        assertEquals(2, chart.getStyler().getXAxisMin(), 1e-12);
        assertEquals(300, chart.getStyler().getXAxisMax(), 1e-12);
        Charts.logAxisOnTicks(chart, 0.031, 95);
        assertEquals(0.03, chart.getStyler().getXAxisMin(), 1e-12);
        assertEquals(100, chart.getStyler().getXAxisMax(), 1e-12);
    }
}
