package dev.rolloutlab.report;

import java.awt.image.BufferedImage;
import java.util.Arrays;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;
import tech.tablesaw.api.Table;

/**
 * Small helpers the notebooks call: render charts as images, print tables, quote the findings. Finding a run is
 * {@code compare.QuickRun}.
 */
public final class Notebook {
    private Notebook() {}

    public static BufferedImage image(Chart<?, ?> chart) {
        return BitmapEncoder.getBufferedImage(chart);
    }

    /** A Tablesaw table as text, every row shown. */
    public static String text(Table t) {
        return t.printAll();
    }

    /** {@code columns} of {@code t} as text, skipping those an older results folder does not have. */
    public static String text(Table t, String... columns) {
        return t.selectColumns(Arrays.stream(columns).filter(t::containsColumn).toArray(String[]::new))
                .printAll();
    }

    /** The report's findings whose text mentions {@code topic}, as Markdown bullets. */
    public static String findings(RunData d, String topic) {
        StringBuilder sb = new StringBuilder();
        for (String f : Report.findings(d))
            if (f.toLowerCase().contains(topic.toLowerCase()))
                sb.append("- ").append(f).append('\n');
        return sb.length() == 0 ? "(no finding about " + topic + " in this run)" : sb.toString();
    }
}
