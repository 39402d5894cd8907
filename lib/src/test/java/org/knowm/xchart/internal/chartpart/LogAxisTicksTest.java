package org.knowm.xchart.internal.chartpart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rolloutlab.report.Charts;
import dev.rolloutlab.report.LogAxis;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/**
 * The numbers on a log x axis fitted by {@link LogAxis#fit}, computed by XChart's own tick calculator (package-private,
 * hence this package) on the report's narrowest plot: the axis ends on the tick next to each end of its data, at least
 * two numbers give it its scale, and no two labels overprint.
 */
class LogAxisTicksTest {
    private static final int PLOT_PX = 674;

    @Test
    void aLogAxisEndsOnLabelledTicksBeyondItsData() {
        XYChart chart = new XYChartBuilder().build();
        chart.getStyler().setXAxisDecimalPattern("#,##0.#");
        double lo = 1 / 1.0816, hi = 16 * 1.0816; // four topologies, 4 % apart
        LogAxis.fit(chart, lo, hi);
        double min = chart.getStyler().getXAxisMin(), max = chart.getStyler().getXAxisMax();
        assertEquals(0.9, min, 1e-12);
        assertEquals(20, max, 1e-12);
        List<String> labels = numbers(chart);
        assertEquals("0.9", labels.get(0), "the first number: " + labels);
        assertEquals("20", labels.get(labels.size() - 1), "the last number: " + labels);
        assertTrue(labels.containsAll(List.of("1", "2", "5", "10")), "numbers between: " + labels);
    }

    @Test
    void dataOnATickKeepsThatTickAsTheEnd() {
        XYChart chart = new XYChartBuilder().build();
        LogAxis.fit(chart, 2, 30);
        assertEquals(2, chart.getStyler().getXAxisMin(), 1e-12);
        assertEquals(30, chart.getStyler().getXAxisMax(), 1e-12);
        LogAxis.fit(chart, 5, 5); // every request alike: an axis from that tick to the next
        assertEquals(5, chart.getStyler().getXAxisMin(), 1e-12);
        assertEquals(6, chart.getStyler().getXAxisMax(), 1e-12);
        LogAxis.fit(chart, 0.031, 0.19);
        assertEquals(0.03, chart.getStyler().getXAxisMin(), 1e-12);
        assertEquals(0.2, chart.getStyler().getXAxisMax(), 1e-12);
    }

    @Test
    void aLatencyCdfOverADecadeAndAHalfNumbersEveryTickAndNoneOverprint() {
        XYChart chart = Charts.latencyCdfStyle(new XYChartBuilder().build());
        LogAxis.fit(chart, 3.2, 41);
        List<String> labels = numbers(chart);
        assertEquals(List.of("3", "4", "5", "6", "7", "8", "9", "10", "20", "30", "40", "50"), labels);
        assertTrue(clear(chart), "labels overprint: " + labels);
    }

    /**
     * Two decades: every j × 10^k labelled put "90" on "100"; the decades stay numbered, the ticks between them not,
     * and the axis ends on the ticks next to the data, not at whole decades that left half the plot empty.
     */
    @Test
    void aLatencyCdfOverTwoDecadesNumbersTheDecadesAndNoneOverprint() {
        XYChart chart = Charts.latencyCdfStyle(new XYChartBuilder().build());
        chart.getStyler().setXAxisMin(1.0).setXAxisMax(200.0);
        assertFalse(clear(chart), "the failure this guards against: every tick labelled over 1-200 ms overprints");

        LogAxis.fit(chart, 1.4, 180);
        assertEquals(1, chart.getStyler().getXAxisMin(), 1e-12);
        assertEquals(200, chart.getStyler().getXAxisMax(), 1e-12);
        List<String> labels = numbers(chart);
        assertEquals(List.of("1", "10", "100"), labels);
        assertTrue(clear(chart), "labels overprint: " + labels);
        assertEquals(20, ticks(chart).getTickLocations().size(), "a tick still at every j x 10^k: " + labels);

        // a default run's single-token cell: 4 to 120 ms
        LogAxis.fit(chart, 4.1, 120);
        assertEquals(4, chart.getStyler().getXAxisMin(), 1e-12);
        assertEquals(200, chart.getStyler().getXAxisMax(), 1e-12);
        assertEquals(List.of("10", "100"), numbers(chart));
    }

    /** Decades only and one of them inside: the axis reaches the nearer decade, so two numbers give it a scale. */
    @Test
    void oneDecadeInsideReachesTheNearerDecade() {
        XYChart chart = Charts.latencyCdfStyle(new XYChartBuilder().build());
        LogAxis.fit(chart, 2.5, 90); // "80" and "90" crowd "100"; 100 is a ninth away, 1 a half
        assertEquals(2, chart.getStyler().getXAxisMin(), 1e-12);
        assertEquals(100, chart.getStyler().getXAxisMax(), 1e-12);
        assertEquals(List.of("10", "100"), numbers(chart));
        assertTrue(clear(chart), "labels overprint: " + numbers(chart));

        LogAxis.fit(chart, 21, 900); // 1,000 is nearer than 10
        assertEquals(20, chart.getStyler().getXAxisMin(), 1e-12);
        assertEquals(1_000, chart.getStyler().getXAxisMax(), 1e-12);
        assertEquals(List.of("100", "1,000"), numbers(chart));
    }

    private static AxisTickCalculator_Logarithmic ticks(XYChart chart) {
        var s = chart.getStyler();
        return new AxisTickCalculator_Logarithmic(Axis.Direction.X, PLOT_PX, s.getXAxisMin(), s.getXAxisMax(), s);
    }

    private static List<String> numbers(XYChart chart) {
        return ticks(chart).getTickLabels().stream()
                .filter(l -> l != null && !l.isBlank())
                .toList();
    }

    /** Whether each numbered tick's label, centred on it in the chart's tick font, stays clear of the next one's. */
    private static boolean clear(XYChart chart) {
        var t = ticks(chart);
        var fm = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB)
                .createGraphics()
                .getFontMetrics(chart.getStyler().getAxisTickLabelsFont());
        double prevAt = Double.NaN;
        int prevWidth = 0;
        for (int i = 0; i < t.getTickLabels().size(); i++) {
            String label = t.getTickLabels().get(i);
            if (label == null || label.isBlank()) continue;
            double at = t.getTickLocations().get(i);
            int width = fm.stringWidth(label);
            if (!Double.isNaN(prevAt) && at - prevAt < (prevWidth + width) / 2.0) return false;
            prevAt = at;
            prevWidth = width;
        }
        return true;
    }
}
