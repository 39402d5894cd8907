package dev.rolloutlab.report;

import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.text.DecimalFormat;
import org.knowm.xchart.XYChart;

/**
 * A chart's log x axis that ends on the ticks next to its data and labels no more ticks than fit side by side. XChart
 * labels either every j × 10^k tick or only the decades, and ends the axis at the data; over two decades on a
 * report-wide chart "90" and "100" overprinted, and a sweep to 16 ended at 17 with 10 its last number.
 */
public final class LogAxis {
    /**
     * Width in pixels of the plot area of a report chart ({@link Charts#W} wide) with its legend outside on the right,
     * as XChart lays it out; the narrowest plot the charts have, so labels that fit here fit on every chart.
     */
    static final double PLOT_PX = 674;

    /** Pixels kept clear between two neighbouring labels. */
    private static final int GAP_PX = 6;

    private LogAxis() {}

    /**
     * Bounds {@code chart}'s log x axis to hold {@code [min, max]} and chooses its labels: every j × 10^k when each
     * label clears its neighbours at the chart's tick font, else the decades only (unlabelled ticks stay at every j ×
     * 10^k). Either way the axis ends on the ticks next to the data, so the data fill the plot; with decades only it
     * reaches out to the nearest decade while fewer than two lie inside, as one number gives a log axis no scale.
     */
    public static void fit(XYChart chart, double min, double max) {
        var styler = chart.getStyler();
        styler.setXAxisLogarithmic(true);
        double lo = tickAtOrBelow(min), hi = tickAtOrAbove(max);
        if (hi <= lo) hi = tickAtOrAbove(lo * 1.001); // every value on one tick: the axis still needs a width
        boolean every =
                everyLabelFits(lo, hi, PLOT_PX, styler.getAxisTickLabelsFont(), styler.getXAxisDecimalPattern());
        if (!every) {
            while (decadesWithin(lo, hi) < 2) {
                double down = decadeAtOrBelow(lo), up = decadeAtOrAbove(hi);
                // reach the nearer way, in decades of width; an end already on a decade cannot reach further out
                if (down == lo || (up != hi && up / hi <= lo / down)) hi = up;
                else lo = down;
            }
        }
        styler.setXAxisLogarithmicDecadeOnly(!every).setXAxisMin(lo).setXAxisMax(hi);
    }

    /** How many powers of ten lie in {@code [lo, hi]}. */
    private static int decadesWithin(double lo, double hi) {
        return (int) (Math.floor(Math.log10(hi) + 1e-9) - Math.ceil(Math.log10(lo) - 1e-9)) + 1;
    }

    private static double decadeAtOrBelow(double v) {
        return Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
    }

    private static double decadeAtOrAbove(double v) {
        return Math.pow(10, Math.ceil(Math.log10(v) - 1e-9));
    }

    /**
     * Whether every j × 10^k tick in {@code [lo, hi]}, labelled with {@code pattern} (a plain {@code #.###} when null)
     * in {@code font}, clears its neighbour on a plot {@code plotPx} wide.
     */
    static boolean everyLabelFits(double lo, double hi, double plotPx, Font font, String pattern) {
        DecimalFormat format = new DecimalFormat(pattern == null ? "#.###" : pattern);
        Graphics2D g = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics();
        FontMetrics fm = g.getFontMetrics(font);
        g.dispose();
        double pxPerDecade = plotPx / Math.log10(hi / lo);
        double prev = Double.NaN;
        int prevWidth = 0;
        for (double decade = Math.pow(10, Math.floor(Math.log10(lo) + 1e-9)); decade <= hi; decade *= 10) {
            for (int j = 1; j <= 9; j++) {
                double tick = j * decade;
                if (tick < lo * (1 - 1e-9) || tick > hi * (1 + 1e-9)) continue;
                int width = fm.stringWidth(format.format(tick));
                if (!Double.isNaN(prev) && Math.log10(tick / prev) * pxPerDecade < (prevWidth + width) / 2.0 + GAP_PX)
                    return false;
                prev = tick;
                prevWidth = width;
            }
        }
        return true;
    }

    /** The largest j × 10^k (j in 1..9) at or below {@code v > 0}. */
    static double tickAtOrBelow(double v) {
        double decade = Math.pow(10, Math.floor(Math.log10(v)));
        return Math.floor(v / decade + 1e-9) * decade;
    }

    /** The smallest j × 10^k (j in 1..10) at or above {@code v > 0}. */
    static double tickAtOrAbove(double v) {
        double decade = Math.pow(10, Math.floor(Math.log10(v)));
        return Math.ceil(v / decade - 1e-9) * decade;
    }
}
