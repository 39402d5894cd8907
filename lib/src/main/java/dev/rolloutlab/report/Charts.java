package dev.rolloutlab.report;

import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Topology;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

/** The report's charts, built from {@link RunData}; notebooks display the same objects inline. */
public final class Charts {
    static final int W = 900, H = 520;

    private Charts() {}

    /** CDF of end-to-end latency (from the scheduled time) per topology and connection, on the shortest workload. */
    public static XYChart latencyCdf(RunData d) {
        XYChart chart = new XYChartBuilder()
                .width(W)
                .height(H)
                .title("End-to-end latency CDF (" + shortest(d) + ")")
                .xAxisTitle("latency (ms, log)")
                .yAxisTitle("fraction of requests")
                .build();
        latencyCdfStyle(chart);
        Table legs = d.legs();
        Table req = d.requests().where(d.requests().booleanColumn("ok").isTrue());
        if (req.isEmpty()) return chart;
        // only the shortest workload: the requests with the smallest prompt and output
        double minIn = req.doubleColumn("prompt_tokens").min(),
                minOut = req.doubleColumn("completion_tokens").min();
        req = req.where(req.doubleColumn("prompt_tokens")
                .isEqualTo(minIn)
                .and(req.doubleColumn("completion_tokens").isEqualTo(minOut)));
        double fastest = Double.POSITIVE_INFINITY, slowest = 0;
        for (String key : seriesKeys(legs)) {
            String[] tc = key.split("/");
            double[] lat = req.where(req.stringColumn("topology")
                            .isEqualTo(tc[0])
                            .and(req.stringColumn("connection").isEqualTo(tc[1])))
                    .doubleColumn("e2el_ms")
                    .asDoubleArray();
            if (lat.length == 0) continue;
            var series = addCdf(chart, key, lat);
            for (double x : series.getXData()) {
                fastest = Math.min(fastest, x);
                slowest = Math.max(slowest, x);
            }
            series.setLineColor(color(tc[0]));
            // keep-alive solid, Connection: close dashed: the pair of one topology reads as a pair
            if (key.endsWith("/" + Connection.CLOSE.wire())) series.setLineStyle(SeriesLines.DASH_DASH);
        }
        if (slowest > 0) LogAxis.fit(chart, fastest, slowest);
        return chart;
    }

    /** Okabe and Ito's colour-blind-safe palette, one colour per topology in its declared order. */
    private static final Color[] PALETTE = {
        new Color(0x0072B2),
        new Color(0x56B4E9),
        new Color(0xE69F00),
        new Color(0x009E73),
        new Color(0xD55E00),
        new Color(0xCC79A7)
    };

    /** The colour of a topology in every chart; a label of a foreign run gets the last one. */
    static Color color(String topology) {
        return PALETTE[Topology.find(topology).map(Topology::ordinal).orElse(PALETTE.length - 1)];
    }

    /**
     * Points a CDF is drawn through at most: a chart 900 pixels wide shows no finer steps, and XChart starts a dashed
     * line's pattern afresh on every segment, so a dashed curve through thousands of requests drew solid.
     */
    static final int CDF_POINTS = 100;

    /**
     * Adds the distribution of {@code latenciesMs} as a CDF through at most {@link #CDF_POINTS} order statistics (and
     * the slowest request, the tail a reader looks for), at midpoint plotting positions (i + 0.5) / n from a first
     * point at 0. XChart puts the ticks of a value axis whose values are equally spaced (i / n is) at those values - a
     * tick every few n-ths, which a rounded label then misplaces; these values are not equally spaced, so the fraction
     * axis keeps its tenths.
     */
    public static XYSeries addCdf(XYChart chart, String name, double[] latenciesMs) {
        double[] lat = latenciesMs.clone();
        Arrays.sort(lat);
        int n = lat.length, m = Math.min(n, CDF_POINTS), last = m < n ? m + 1 : m;
        double[] x = new double[last + 1], y = new double[last + 1];
        x[0] = Math.max(lat[0], 1e-3); // a log axis has no 0
        for (int k = 0; k < m; k++) {
            int i = (int) ((k + 0.5) * n / m); // the request at the k-th of m midpoint positions; every one when m = n
            x[k + 1] = Math.max(lat[i], 1e-3);
            y[k + 1] = (i + 0.5) / n;
        }
        x[last] = Math.max(lat[n - 1], 1e-3);
        y[last] = (n - 0.5) / n;
        return chart.addSeries(name, x, y);
    }

    /**
     * The latency CDF's axes: log latency (numbers inside each decade where they fit, see {@link LogAxis}), fractions
     * with a tick every tenth.
     */
    public static XYChart latencyCdfStyle(XYChart chart) {
        chart.getStyler().setXAxisLogarithmic(true).setMarkerSize(0).setLegendPosition(Styler.LegendPosition.OutsideE);
        // a tick every tenth of the requests; on the log axis a labelled tick at every 1..9 x 10^k, so a reader can
        // place a latency between decades (XChart's label function would turn the log axis linear, hence a pattern),
        // until LogAxis.fit finds they do not fit
        chart.getStyler().setYAxisMin(0.0).setYAxisMax(1.0).setYAxisTickMarkSpacingHint(36);
        chart.getStyler().setYAxisDecimalPattern("0.0");
        chart.getStyler().setXAxisLogarithmicDecadeOnly(false);
        chart.getStyler().setXAxisDecimalPattern("#,##0.###");
        return chart;
    }

    /**
     * Output throughput per leg and workload; whiskers: the 95 % interval across rounds, drawn from three rounds on (a
     * t interval over two spans ±12.7 standard errors, whiskers far below zero that hide the bars).
     */
    public static CategoryChart throughput(RunData d) {
        Table legs = d.legs();
        int rounds = Whiskers.roundsRun(d);
        boolean whiskers = rounds >= Whiskers.MIN_ROUNDS;
        CategoryChart chart = bars(
                d,
                "Output throughput by topology ("
                        + (whiskers
                                ? "whiskers: 95 % CI across rounds)"
                                : "mean of " + rounds + " round(s); no interval drawn below three)"),
                "output tokens/s",
                "output_throughput",
                whiskers ? (tc, w) -> Whiskers.half(legs, tc[0], tc[1], w, "output_throughput") : null);
        chart.getStyler().setYAxisDecimalPattern("#,##0");
        return chart;
    }

    /** How far apart sideways the sweep's topologies are drawn, a factor on the log axis. */
    private static final double SWEEP_APART = 1.04;

    /** Output throughput against requests in flight, one line per topology (keep-alive). */
    public static XYChart throughputVsConcurrency(RunData d) {
        XYChart chart = new XYChartBuilder()
                .width(W)
                .height(H)
                .title("Throughput vs concurrency (keep-alive)")
                .xAxisTitle("requests in flight")
                .yAxisTitle("output tokens/s")
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisDecimalPattern("#,##0.#");
        Table s = d.sweep().orElse(null);
        if (s == null || s.isEmpty()) {
            chart.addSeries("no sweep in this run", new double[] {1}, new double[] {0});
            return chart;
        }
        boolean ci = s.containsColumn("output_throughput_ci_low") && Whiskers.roundsRun(d) >= Whiskers.MIN_ROUNDS;
        chart.setTitle("Throughput vs concurrency (keep-alive" + (ci ? "; error bars: 95 % CI across rounds" : "")
                + "; points set apart sideways)");
        // concurrency doubles from point to point: a log axis spaces them evenly; lines that overlap stay apart by
        // their colour, marker and a small sideways offset per topology
        List<String> topologies =
                new ArrayList<>(new LinkedHashSet<>(s.stringColumn("topology").asList()));
        var markers = new org.knowm.xchart.style.markers.Marker[] {
            SeriesMarkers.CIRCLE,
            SeriesMarkers.SQUARE,
            SeriesMarkers.DIAMOND,
            SeriesMarkers.TRIANGLE_UP,
            SeriesMarkers.TRIANGLE_DOWN
        };
        for (int k = 0; k < topologies.size(); k++) {
            String t = topologies.get(k);
            Table part = s.where(s.stringColumn("topology").isEqualTo(t));
            double[] x = part.numberColumn("concurrency").asDoubleArray(),
                    y = part.numberColumn("output_throughput").asDoubleArray();
            double apart = Math.pow(SWEEP_APART, k - (topologies.size() - 1) / 2.0);
            for (int i = 0; i < x.length; i++) x[i] *= apart;
            double[] err = new double[y.length];
            for (int i = 0; ci && i < y.length; i++) {
                double lo = part.numberColumn("output_throughput_ci_low").getDouble(i),
                        hi = part.numberColumn("output_throughput_ci_high").getDouble(i);
                err[i] = Whiskers.of(y[i], lo, hi);
            }
            var series = ci ? chart.addSeries(t, x, y, err) : chart.addSeries(t, x, y);
            series.setLineColor(color(t));
            series.setMarkerColor(color(t));
            series.setMarker(markers[k % markers.length]);
        }
        double[] all = s.numberColumn("concurrency").asDoubleArray();
        double lo = Arrays.stream(all).min().orElse(1),
                hi = Arrays.stream(all).max().orElse(1);
        // the points sit beside their values, not on ticks: the axis title names the values swept
        chart.setXAxisTitle("requests in flight (swept at "
                + Arrays.stream(all)
                        .distinct()
                        .sorted()
                        .mapToObj(v -> String.valueOf((long) v))
                        .collect(Collectors.joining(", "))
                + ")");
        double spread = Math.pow(SWEEP_APART, (topologies.size() - 1) / 2.0);
        LogAxis.fit(chart, lo / spread, hi * spread);
        return chart;
    }

    /**
     * Each leg's tax per request, e2el minus the engine's own queue, prefill and decode, with its 95 % interval as
     * whiskers: the HTTP legs' cost beside the in-process path's own, free of the engine's compute noise.
     */
    public static CategoryChart overhead(RunData d) {
        Table legs = d.legs();
        return bars(
                d,
                "Tax per request: e2el minus the engine's own time (whiskers: 95 % CI)",
                "ms per request",
                "http_tax_ms",
                (tc, w) -> Whiskers.half(legs, tc[0], tc[1], w, "http_tax_ms"));
    }

    /**
     * Mean end-to-end latency with keep-alive and with Connection: close (whiskers: 95 % CI), per HTTP topology and
     * workload.
     */
    public static CategoryChart keepAliveVsClose(RunData d) {
        CategoryChart chart = new CategoryChartBuilder()
                .width(W)
                .height(H)
                .title("Keep-alive vs Connection: close (whiskers: 95 % CI of the mean)")
                .xAxisTitle("topology / workload")
                .yAxisTitle("mean e2e latency (ms)")
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisLabelRotation(30);
        Table legs = d.legs();
        List<String> cats = new ArrayList<>();
        Map<String, List<Double>> series = new LinkedHashMap<>(), whiskers = new LinkedHashMap<>();
        for (String conn : List.of(Connection.KEEP_ALIVE.wire(), Connection.CLOSE.wire())) {
            series.put(conn, new ArrayList<>());
            whiskers.put(conn, new ArrayList<>());
        }
        for (Row r : legs) {
            if (r.getString("connection").equals(Connection.KEEP_ALIVE.wire())) {
                String t = r.getString("topology"), w = r.getString("workload");
                if (find(legs, t, Connection.CLOSE.wire(), w, "mean_e2el_ms") == null) continue;
                cats.add(t + " " + w);
                for (String conn : series.keySet()) {
                    series.get(conn).add(find(legs, t, conn, w, "mean_e2el_ms"));
                    whiskers.get(conn).add(Whiskers.half(legs, t, conn, w, "mean_e2el_ms"));
                }
            }
        }
        if (cats.isEmpty()) {
            cats.add("no HTTP legs");
            series.values().forEach(l -> l.add(0.0));
            whiskers.values().forEach(l -> l.add(0.0));
        }
        series.forEach((k, v) -> chart.addSeries(k, cats, v, whiskers.get(k)));
        return chart;
    }

    /** One bar per topology/connection per workload; {@code halfWidth}, when given, draws symmetric error bars. */
    private static CategoryChart bars(
            RunData d, String title, String yTitle, String column, BiFunction<String[], String, Double> halfWidth) {
        CategoryChart chart = new CategoryChartBuilder()
                .width(W)
                .height(H)
                .title(title)
                .xAxisTitle("workload")
                .yAxisTitle(yTitle)
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        Table legs = d.legs();
        List<String> workloads = new ArrayList<>(
                new LinkedHashSet<>(legs.stringColumn("workload").asList()));
        boolean any = false;
        for (String key : seriesKeys(legs)) {
            String[] tc = key.split("/");
            List<Double> ys = new ArrayList<>(), errs = new ArrayList<>();
            boolean has = false;
            for (String w : workloads) {
                Double v = find(legs, tc[0], tc[1], w, column);
                has |= v != null;
                ys.add(v == null ? 0.0 : v);
                if (halfWidth != null) errs.add(v == null ? 0.0 : halfWidth.apply(tc, w));
            }
            if (!has) continue; // e.g. the in-process legs on the overhead chart: they are the baseline
            any = true;
            if (halfWidth == null) chart.addSeries(key, workloads, ys);
            else chart.addSeries(key, workloads, ys, errs);
        }
        // an empty chart must say so, not pass for a row of zeros
        if (!any) {
            chart.setTitle(title + " (not measured: no successful request reported it)");
            chart.addSeries(
                    "none",
                    workloads.isEmpty() ? List.of("-") : workloads,
                    Collections.nCopies(Math.max(1, workloads.size()), 0.0));
        }
        return chart;
    }

    static List<String> seriesKeys(Table legs) {
        LinkedHashSet<String> keys = new LinkedHashSet<>();
        for (Row r : legs) keys.add(r.getString("topology") + "/" + r.getString("connection"));
        return new ArrayList<>(keys);
    }

    static Double find(Table legs, String topology, String connection, String workload, String column) {
        if (!legs.containsColumn(column)) return null; // a bench run's summary has no compare columns
        for (Row r : legs) {
            if (r.getString("topology").equals(topology)
                    && r.getString("connection").equals(connection)
                    && r.getString("workload").equals(workload)) {
                // a missing figure (not measured, or every request failed) gives no number to state a finding with
                return r.isMissing(column) || Double.isNaN(r.getNumber(column)) ? null : r.getNumber(column);
            }
        }
        return null;
    }

    static String shortest(RunData d) {
        List<String> w = d.legs().stringColumn("workload").asList();
        return w.isEmpty() ? "no legs" : w.get(0);
    }

    /**
     * Writes the chart as {@code png} and, beside it, the same chart as SVG for papers; white backgrounds, and each
     * file moved into place whole, so a reader never sees half a plot.
     */
    public static Path save(Chart<?, ?> chart, Path png) {
        chart.getStyler()
                .setChartBackgroundColor(java.awt.Color.WHITE)
                .setPlotBackgroundColor(java.awt.Color.WHITE)
                .setLegendBackgroundColor(java.awt.Color.WHITE);
        try {
            Path dir = Files.createDirectories(png.toAbsolutePath().getParent());
            String base = png.getFileName().toString().replaceFirst("\\.png$", "");
            Path tmp = Files.createTempDirectory(dir, ".plot");
            try {
                BitmapEncoder.saveBitmap(chart, tmp.resolve(base).toString(), BitmapEncoder.BitmapFormat.PNG);
                org.knowm.xchart.VectorGraphicsEncoder.saveVectorGraphic(
                        chart,
                        tmp.resolve(base).toString(),
                        org.knowm.xchart.VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
                Files.move(
                        tmp.resolve(base + ".png"),
                        png,
                        StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
                Files.move(
                        tmp.resolve(base + ".svg"),
                        dir.resolve(base + ".svg"),
                        StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
            } finally {
                try (var left = Files.list(tmp)) {
                    for (Path f : left.toList()) Files.deleteIfExists(f);
                }
                Files.deleteIfExists(tmp);
            }
            return png;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
