package dev.rolloutlab.report;

import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Connection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tech.tablesaw.api.Row;

/**
 * Whether compare's numbers hold from one run to the next (a benchmark for docs/benchmarks.md, not a test).
 * {@code tests/bench repeat DIR...}: given the results folders of runs made back to back, it reports each cell's HTTP
 * tax over in-process across the runs (they should agree within 20 % or 0.5 ms, whichever is larger), the zero-compute
 * control's (within 10 %), whether a headline finding changed sign or went from confirmed to negligible, and how often
 * one run's estimate lies inside another run's 95 % interval.
 */
public final class RepeatabilityBenchmark {
    private record Cell(String leg, String workload) {}

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: tests/bench repeat DIR DIR [DIR...]   (results folders of compare runs)");
            System.exit(2);
        }
        List<RunData> runs = new ArrayList<>();
        for (String a : args) runs.add(RunData.load(Path.of(a)));
        System.out.println("## HTTP tax over in-process, per cell (ms; paired, 95 % CI), " + runs.size() + " runs\n");
        int[] agree = table(runs, "real engine", 0.20, 0.5);
        List<RunData> controls = new ArrayList<>();
        for (String a : args) {
            Path c = Path.of(a).resolve("control");
            if (Files.exists(c.resolve("summary.csv"))) controls.add(RunData.load(c));
        }
        int[] agreeControl = controls.size() == runs.size() ? table(controls, "zero-compute control", 0.10, 0) : null;
        System.out.println("## Headline findings\n");
        int flips = findings(runs);
        System.out.printf(
                Locale.ROOT,
                "%nSummary: real-engine cells agreeing within max(20 %%, 0.5 ms): %d of %d; control cells within 10 %%: "
                        + "%s; findings that flipped (sign, or confirmed against negligible): %d; estimates inside "
                        + "another run's 95 %% CI: %d of %d (%.0f %%)%n",
                agree[0],
                agree[1],
                agreeControl == null ? "no control" : agreeControl[0] + " of " + agreeControl[1],
                flips,
                agree[2],
                agree[3],
                100.0 * agree[2] / Math.max(1, agree[3]));
    }

    /**
     * Prints one row per cell: each run's estimate and interval, the range, and whether it holds; returns {agreeing
     * cells, cells, estimates inside another run's interval, pairs of runs compared}.
     */
    private static int[] table(List<RunData> runs, String what, double relative, double absoluteMs) {
        Map<Cell, List<Confidence.Interval>> cells = new LinkedHashMap<>();
        for (int i = 0; i < runs.size(); i++) {
            RunData d = runs.get(i);
            for (Row r : d.legs()) {
                String t = r.getString("topology"), c = r.getString("connection"), w = r.getString("workload");
                String base = d.baseline(t);
                if (base == null) continue;
                Confidence.Interval ci = Pairs.difference(d, Pairs.Metric.TAX, t, c, base, Connection.NONE.wire(), w);
                List<Confidence.Interval> list =
                        cells.computeIfAbsent(new Cell(t + " " + c, w), k -> new ArrayList<>());
                while (list.size() < i) list.add(null);
                list.add(ci);
            }
        }
        System.out.println("| " + what + " | workload | " + "run | ".repeat(runs.size()) + "range | holds |");
        System.out.println("|---|---|" + "---|".repeat(runs.size()) + "---|---|");
        int agree = 0, n = 0, inside = 0, pairs = 0;
        for (var e : cells.entrySet()) {
            List<Confidence.Interval> cis = e.getValue();
            StringBuilder row = new StringBuilder("| " + e.getKey().leg + " | " + e.getKey().workload + " | ");
            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY, sum = 0;
            int k = 0;
            for (Confidence.Interval ci : cis) {
                row.append(Overheads.interval(ci)).append(" | ");
                if (ci == null) continue;
                lo = Math.min(lo, ci.estimate());
                hi = Math.max(hi, ci.estimate());
                sum += ci.estimate();
                k++;
            }
            for (int j = cis.size(); j < runs.size(); j++) row.append(" | ");
            if (k < runs.size()) {
                System.out.println(row + "| missing in a run |");
                continue;
            }
            double bound = Math.max(relative * Math.abs(sum / k), absoluteMs);
            boolean holds = hi - lo <= bound;
            n++;
            if (holds) agree++;
            for (Confidence.Interval a : cis)
                for (Confidence.Interval b : cis) {
                    if (a == b) continue;
                    pairs++;
                    if (a.estimate() >= b.low() && a.estimate() <= b.high()) inside++;
                }
            System.out.println(
                    row + String.format(Locale.ROOT, "%.2f (bound %.2f) | %s |", hi - lo, bound, holds ? "yes" : "NO"));
        }
        System.out.println();
        return new int[] {agree, n, inside, pairs};
    }

    private static final Pattern FINDING = Pattern.compile("^\\*\\*(.+?)\\*\\* — (\\S+)");

    /** Prints each headline finding's verdict per run; returns how many flipped between runs. */
    private static int findings(List<RunData> runs) {
        Map<String, List<String>> verdicts = new LinkedHashMap<>();
        for (RunData d : runs) {
            for (String f : Findings.of(d)) {
                Matcher m = FINDING.matcher(f);
                if (!m.find() || m.group(1).startsWith("Read with care")) continue;
                verdicts.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(m.group(2));
            }
        }
        int flips = 0;
        for (var e : verdicts.entrySet()) {
            List<String> v = e.getValue();
            boolean flipped = (v.contains("confirmed") && (v.contains("negligible") || v.contains("contradicted")))
                    || (v.contains("contradicted") && v.contains("negligible"));
            if (flipped) flips++;
            System.out.println("- " + e.getKey() + ": " + String.join(" / ", v) + (flipped ? " — FLIPPED" : ""));
        }
        return flips;
    }
}
