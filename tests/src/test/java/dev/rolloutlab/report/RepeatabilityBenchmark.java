package dev.rolloutlab.report;

import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Percentiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tech.tablesaw.api.Row;

/**
 * Whether compare's numbers hold from one run to the next (a benchmark for docs/benchmarks.md, not a test).
 * {@code tests/bench repeat DIR...}: given the results folders of runs made back to back, it reports each cell's HTTP
 * tax over in-process across the runs (they should agree within 20 % or 0.5 ms, whichever is larger), the zero-compute
 * control's (within 10 %), whether a headline finding changed sign or went from confirmed to negligible, and how often
 * one run's estimate lies inside another run's 95 % interval; beside each agreement, how many cells the runs' own
 * intervals let agree at all; and, from the control, how far the machine's own speed moved between the runs.
 */
public final class RepeatabilityBenchmark {
    private record Cell(String leg, String workload) {}

    /**
     * A table's cells, each run's interval per cell (null where a run lacks it), its counts, and the cells expected to
     * agree from the runs' own intervals alone.
     */
    private record Agreement(
            Map<Cell, List<Confidence.Interval>> cells,
            int agree,
            int n,
            int inside,
            int insideRepeat,
            int pairs,
            double expected) {}

    /**
     * Two runs' estimates differ by √2 times one's standard error when nothing but sampling moves them, so a right 95 %
     * interval holds another run's estimate only 83 % of the time (91 % for a t interval over three rounds); widened by
     * √2 about its estimate, 95 % either way.
     */
    private static final double REPEAT = Math.sqrt(2);

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: tests/bench repeat DIR DIR [DIR...]   (results folders of compare runs)");
            System.exit(2);
        }
        List<RunData> runs = new ArrayList<>();
        for (String a : args) runs.add(RunData.load(Path.of(a)));
        System.out.println("## HTTP tax over in-process, per cell (ms; paired, 95 % CI), " + runs.size() + " runs\n");
        Agreement agree = table(runs, "real engine", 0.20, 0.5);
        List<RunData> controls = new ArrayList<>();
        for (String a : args) {
            Path c = Path.of(a).resolve("control");
            if (Files.exists(c.resolve("summary.csv"))) controls.add(RunData.load(c));
        }
        Agreement agreeControl =
                controls.size() == runs.size() ? table(controls, "zero-compute control", 0.10, 0) : null;
        if (agreeControl != null) {
            double[] speed = machine(runs, controls, agreeControl);
            System.out.printf(
                    Locale.ROOT,
                    "Each run's taxes divided by its factor above (the control's CPU per request): real-engine cells "
                            + "within max(20 %%, 0.5 ms) %d of %d, control cells within 10 %% %d of %d. A diagnosis "
                            + "of where the spread comes from, not a result: compare reports milliseconds.%n%n",
                    agreeing(agree.cells(), speed, 0.20, 0.5),
                    agree.n(),
                    agreeing(agreeControl.cells(), speed, 0.10, 0),
                    agreeControl.n());
        }
        System.out.println("## Headline findings\n");
        int flips = findings(runs);
        System.out.printf(
                Locale.ROOT,
                "%nSummary: real-engine cells agreeing within max(20 %%, 0.5 ms): %d of %d (the runs' own intervals "
                        + "allow %.1f); control cells within 10 %%: %s; findings that flipped (sign, or confirmed "
                        + "against negligible): %d; estimates inside another run's 95 %% CI: %d of %d (%.0f %%; "
                        + "sampling alone leaves 83–91 %% inside); inside it widened by √2: %.0f %% (sampling "
                        + "alone: 95 %%; what is short of that is the machine moving between runs)%n",
                agree.agree(),
                agree.n(),
                agree.expected(),
                agreeControl == null
                        ? "no control"
                        : String.format(
                                Locale.ROOT,
                                "%d of %d (the runs' own intervals allow %.1f)",
                                agreeControl.agree(),
                                agreeControl.n(),
                                agreeControl.expected()),
                flips,
                agree.inside(),
                agree.pairs(),
                100.0 * agree.inside() / Math.max(1, agree.pairs()),
                100.0 * agree.insideRepeat() / Math.max(1, agree.pairs()));
    }

    /**
     * Per run, the control's CPU per request on its HTTP legs (client, serve and balancer: the same code on the same
     * requests, so what moves it is the machine's speed per unit of work) and its tax, each the median over cells of
     * the ratio to the first run, beside the fixed computation compare times before and after each run. A tax that
     * moves with the CPU is the machine's phase, which no design within one run can take out. Returns each run's CPU
     * factor.
     */
    private static double[] machine(List<RunData> runs, List<RunData> controls, Agreement control) {
        double[] factor = new double[runs.size()];
        System.out.println("## The machine under the runs\n");
        System.out.println("The control's CPU per request (client + serve + balancer, HTTP legs, rounds pooled) is the "
                + "same code on the same requests in every run: it moves with the machine's speed per unit of work. "
                + "Each figure is the median over the control's cells of the ratio to the first run.\n");
        System.out.println(
                "| run | control CPU per request | control tax | the hypervisor's steal in the control's slices "
                        + "(ms) | fixed computation before / after (ms) |");
        System.out.println("|---|---|---|---|---|");
        Map<Cell, Double> firstCpu = cpuPerRequest(controls.get(0));
        for (int i = 0; i < runs.size(); i++) {
            Map<Cell, Double> cpu = cpuPerRequest(controls.get(i));
            List<Double> cpuRatios = new ArrayList<>(), taxRatios = new ArrayList<>();
            for (var e : cpu.entrySet())
                if (firstCpu.getOrDefault(e.getKey(), 0.0) > 0) cpuRatios.add(e.getValue() / firstCpu.get(e.getKey()));
            for (List<Confidence.Interval> cis : control.cells().values())
                if (cis.size() > i
                        && cis.get(0) != null
                        && cis.get(i) != null
                        && cis.get(0).estimate() > 0)
                    taxRatios.add(cis.get(i).estimate() / cis.get(0).estimate());
            var config = runs.get(i).run().map(r -> r.path("config"));
            factor[i] = Percentiles.median(cpuRatios);
            System.out.printf(
                    Locale.ROOT,
                    "| %d | %.2fx | %.2fx | %.0f | %.0f / %.0f |%n",
                    i + 1,
                    factor[i],
                    Percentiles.median(taxRatios),
                    steal(controls.get(i)),
                    config.map(c -> c.path("calibration_ms_before").asDouble(Double.NaN))
                            .orElse(Double.NaN),
                    config.map(c -> c.path("calibration_ms_after").asDouble(Double.NaN))
                            .orElse(Double.NaN));
        }
        System.out.println();
        return factor;
    }

    /**
     * The CPU time the hypervisor took from this VM while the control's slices ran, summed over them (ms, in the
     * kernel's 10 ms ticks): a run whose host was busier steals more, and its hand-offs cost more.
     */
    private static double steal(RunData control) {
        return control.cpuRounds()
                .filter(t -> t.containsColumn("steal_ms"))
                .map(t -> t.numberColumn("steal_ms").asDoubleColumn().sum())
                .orElse(Double.NaN);
    }

    /** Cells whose estimates, each divided by its run's {@code factor}, lie within the bound of {@link #table}. */
    private static int agreeing(
            Map<Cell, List<Confidence.Interval>> cells, double[] factor, double relative, double absoluteMs) {
        int agree = 0;
        for (List<Confidence.Interval> cis : cells.values()) {
            Range r = Range.of(cis, factor, relative, absoluteMs);
            if (r.runs() == factor.length && r.holds()) agree++;
        }
        return agree;
    }

    /** A cell's estimates over the runs, each divided by its run's factor: their range, its bound, how many runs. */
    private record Range(double range, double bound, int runs) {
        boolean holds() {
            return range <= bound;
        }

        static Range of(List<Confidence.Interval> cis, double[] factor, double relative, double absoluteMs) {
            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY, sum = 0;
            int k = 0;
            for (int i = 0; i < cis.size(); i++) {
                if (cis.get(i) == null) continue;
                double x = cis.get(i).estimate() / factor[i];
                lo = Math.min(lo, x);
                hi = Math.max(hi, x);
                sum += x;
                k++;
            }
            return new Range(hi - lo, Math.max(relative * Math.abs(sum / Math.max(1, k)), absoluteMs), k);
        }
    }

    /** The control's CPU ms per request per HTTP cell ({@link Control#cpuPerRequest}). */
    private static Map<Cell, Double> cpuPerRequest(RunData d) {
        Map<Cell, Double> out = new LinkedHashMap<>();
        for (Row r : d.legs()) {
            String t = r.getString("topology"), c = r.getString("connection"), w = r.getString("workload");
            Double cpu = d.baseline(t) == null ? null : Control.cpuPerRequest(d, t, c, w);
            if (cpu != null) out.put(new Cell(t + " " + c, w), cpu);
        }
        return out;
    }

    /** Prints one row per cell: each run's estimate and interval, the range, and whether it holds. */
    private static Agreement table(List<RunData> runs, String what, double relative, double absoluteMs) {
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
        int agree = 0, n = 0, inside = 0, insideRepeat = 0, pairs = 0;
        double expected = 0;
        List<Double> narrowing = new ArrayList<>();
        double[] ones = new double[runs.size()];
        Arrays.fill(ones, 1);
        for (var e : cells.entrySet()) {
            List<Confidence.Interval> cis = e.getValue();
            StringBuilder row = new StringBuilder("| " + e.getKey().leg + " | " + e.getKey().workload + " | ");
            for (Confidence.Interval ci : cis)
                row.append(Overheads.interval(ci)).append(" | ");
            for (int j = cis.size(); j < runs.size(); j++) row.append(" | ");
            Range range = Range.of(cis, ones, relative, absoluteMs);
            if (range.runs() < runs.size()) {
                System.out.println(row + "| missing in a run |");
                continue;
            }
            boolean holds = range.holds();
            n++;
            if (holds) agree++;
            for (Confidence.Interval a : cis)
                for (Confidence.Interval b : cis) {
                    if (a == b) continue;
                    pairs++;
                    if (a.estimate() >= b.low() && a.estimate() <= b.high()) inside++;
                    double mid = b.estimate();
                    if (a.estimate() >= mid - REPEAT * (mid - b.low())
                            && a.estimate() <= mid + REPEAT * (b.high() - mid)) insideRepeat++;
                }
            System.out.println(row
                    + String.format(
                            Locale.ROOT,
                            "%.2f (bound %.2f) | %s |",
                            range.range(),
                            range.bound(),
                            holds ? "yes" : "NO"));
            Sampling s = Sampling.of(cis, range.bound());
            expected += s.holds();
            narrowing.add(s.narrowing());
        }
        double median = Percentiles.median(narrowing),
                widest =
                        narrowing.stream()
                                .mapToDouble(Double::doubleValue)
                                .max()
                                .orElse(Double.NaN);
        System.out.printf(
                Locale.ROOT,
                "%nThe runs' own intervals alone (each estimate drawn with the error its 95 %% interval states, "
                        + "nothing moving between runs) leave %.1f of these %d cells within their bound. For a cell "
                        + "to hold in 95 %% of such sets of runs its intervals would have to narrow by a median %.1fx "
                        + "(%.0fx the requests), at most %.1fx (%.0fx).%n%n",
                expected,
                n,
                median,
                median * median,
                widest,
                widest * widest);
        return new Agreement(cells, agree, n, inside, insideRepeat, pairs, expected);
    }

    /**
     * What sampling error alone does to a cell's range over the runs: the runs' estimates drawn about their mean, each
     * with the standard error its own 95 % interval states, and the range compared with the cell's bound. A target
     * tighter than the runs' own intervals cannot be met by any run of this length, however still the machine.
     */
    private record Sampling(double holds, double narrowing) {
        private static final int DRAWS = 20_000;

        /**
         * {@code holds}: the chance the range stays within {@code bound}; {@code narrowing}: by how much every interval
         * would have to shrink for that chance to reach 95 %.
         */
        static Sampling of(List<Confidence.Interval> cis, double bound) {
            double mean = cis.stream()
                    .mapToDouble(Confidence.Interval::estimate)
                    .average()
                    .orElse(0);
            double[] se = cis.stream()
                    .mapToDouble(ci -> (ci.high() - ci.low()) / (2 * 1.96))
                    .toArray();
            SplittableRandom random = new SplittableRandom(se.length);
            double[] ranges = new double[DRAWS];
            int within = 0;
            for (int d = 0; d < DRAWS; d++) {
                double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
                for (double e : se) {
                    double x = mean + e * random.nextGaussian();
                    lo = Math.min(lo, x);
                    hi = Math.max(hi, x);
                }
                ranges[d] = hi - lo;
                if (ranges[d] <= bound) within++;
            }
            Arrays.sort(ranges);
            return new Sampling((double) within / DRAWS, Math.max(1, ranges[(int) (0.95 * DRAWS)] / bound));
        }
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
