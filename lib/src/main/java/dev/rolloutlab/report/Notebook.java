package dev.rolloutlab.report;

import dev.rolloutlab.bench.Results;
import dev.rolloutlab.compare.Compare;
import dev.rolloutlab.compare.CompareConfig;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;
import tech.tablesaw.api.Table;

import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** Small helpers the notebooks call: find the results to analyse, render charts as images, quote the findings. */
public final class Notebook {
    private Notebook() {
    }

    /** {@code $ROLLOUT_LAB_RESULTS}, else {@code results/} at the repository root above the working directory. */
    public static Path resultsRoot() {
        String env = System.getenv("ROLLOUT_LAB_RESULTS");
        if (env != null && !env.isBlank()) return Path.of(env);
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("jbang-catalog.json"))) return p.resolve("results");
        }
        return Path.of("results").toAbsolutePath();
    }

    /** The newest results folder, or a fresh {@code compare --quick} run when there is none yet. */
    public static Path latestOrQuick() {
        Path root = resultsRoot();
        return ResultsData.latest(root).orElseGet(() -> {
            Results r = Results.create(root.resolve(java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-compare"), "compare");
            Compare c = new Compare(CompareConfig.defaults(true), r, new PrintStream(PrintStream.nullOutputStream()));
            Compare.Outcome o = c.run();
            r.writeRun(c.describe(), o.incomplete(), o.reason());
            return r.dir();
        });
    }

    public static BufferedImage image(Chart<?, ?> chart) {
        return BitmapEncoder.getBufferedImage(chart);
    }

    /** A Tablesaw table as text, every row shown. */
    public static String text(Table t) {
        return t.printAll();
    }

    /** The report's findings whose text mentions {@code topic}, as Markdown bullets. */
    public static String findings(ResultsData d, String topic) {
        StringBuilder sb = new StringBuilder();
        for (String f : Report.findings(d)) if (f.toLowerCase().contains(topic.toLowerCase())) sb.append("- ").append(f).append('\n');
        return sb.length() == 0 ? "(no finding about " + topic + " in this run)" : sb.toString();
    }
}
