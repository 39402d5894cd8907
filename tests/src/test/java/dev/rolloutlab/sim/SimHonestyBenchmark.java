package dev.rolloutlab.sim;

import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.report.RunData;
import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Percentiles;
import dev.rolloutlab.results.Verdict;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleBinaryOperator;
import tech.tablesaw.api.Row;

/**
 * The sim's honesty check (a benchmark for docs/benchmarks.md, not a test), {@code sop/sim-predict-a-pod.md} steps 8–12
 * in one command: {@code tests/bench honesty [PAIRS] [DIR] [PORTS]}. Each pair launches a real host of 4 ports (or
 * PORTS), calibrates on it, runs {@code compare} on it, then runs {@code compare} on a simulated host with that fit.
 * Each figure's verdict reads the 95 % interval of its mean difference over the pairs against ±15 %: within, off by
 * more, or undecided at this machine's noise; the check fails on a figure that is off. An interval, not a median held
 * to 15 %, because on a shared 2-core VM the same warm real host read 54 % apart in two {@code compare} runs three
 * minutes apart, and its calibration's long-prompt figures 33 % apart: one pair's difference is mostly that, and three
 * medians held to 15 % met it 8, 5 and 2 times of 8 on the same sim. Each launch runs {@code compare} before its
 * calibration and after it, and is held at the mean of the two, their drift printed; every launch, real or simulated,
 * first runs one unread round of {@code compare} on every cell. A second table splits each pair at its calibration (the
 * figures it held the fit to are in the profile): whether the simulated host left its fit or the real launch left its
 * calibration.
 */
public final class SimHonestyBenchmark {
    private static final double MATCH = 0.15;
    /**
     * Seconds a cell runs per round. At {@code compare}'s default of one, an out=32 cell is 16 requests in four blocks,
     * and one stolen 100 ms spell moves it by a tenth; the calibration it is held to measures several seconds.
     */
    private static final String CELL_SEC = "5";
    /**
     * Enough for {@link #CELL_SEC} of single-token requests on a fast spell of this VM (a simulated host answered 750 a
     * second, and 256 a second of the cell cut it to 1.7 s).
     */
    private static final String MAX_REQUESTS = "10000";

    /** A host of {@code ports} ports, real or simulated alike. */
    private static List<String> host(int ports) {
        return List.of(
                "--shape",
                "small",
                "--num-servers",
                String.valueOf(ports),
                "--base-port",
                "0",
                "--prefix-cache-mb",
                "0");
    }

    private SimHonestyBenchmark() {}

    /**
     * One cell's output throughput and median e2el, from one compare run, and the figure a calibration measures under
     * the same load: the median time to the first token on a single-token cell, per token on a streamed one.
     */
    record Figures(double tokPerSec, double p50E2elMs, double calibratedMs) {
        /** Per cell, {@code f} of the two runs' figures, each figure apart. */
        static Map<String, Figures> combine(Map<String, Figures> x, Map<String, Figures> y, DoubleBinaryOperator f) {
            Map<String, Figures> out = new LinkedHashMap<>();
            x.forEach((cell, a) -> {
                Figures b = y.get(cell);
                if (b != null)
                    out.put(
                            cell,
                            new Figures(
                                    f.applyAsDouble(a.tokPerSec(), b.tokPerSec()),
                                    f.applyAsDouble(a.p50E2elMs(), b.p50E2elMs()),
                                    f.applyAsDouble(a.calibratedMs(), b.calibratedMs())));
            });
            return out;
        }
    }

    /** A compare cell's prompt and output length, from its workload name ({@code in=8 out=1}). */
    private record Cell(int in, int out) {
        static Cell of(String workload) {
            String[] parts = workload.split(" ");
            return new Cell(Integer.parseInt(parts[0].substring(3)), Integer.parseInt(parts[1].substring(4)));
        }

        /** The calibration's figure under this cell's load, ms: the short prompt's or the long one's. */
        double calibrated(Profile.Loaded m, boolean longPrompt) {
            if (out == 1) return longPrompt ? m.ttftLongBesidePrefills() : m.ttftBesidePrefills();
            return longPrompt ? m.tpotLong() : m.tpot();
        }
    }

    public static void main(String[] args) throws Exception {
        int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        int ports = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        if (pairs < 2 || pairs > 9 || ports < 2 || ports > 8) {
            System.err.println("usage: tests/bench honesty [PAIRS 2..9, default 4] [DIR, default target/honesty] "
                    + "[PORTS 2..8, default 4]");
            System.exit(2);
        }
        Path dir = Path.of(args.length > 1 ? args[1] : "target/honesty").toAbsolutePath();
        Files.createDirectories(dir);
        long t0 = System.nanoTime();
        List<Map<String, Figures>> reals = new ArrayList<>(), drifts = new ArrayList<>(), sims = new ArrayList<>();
        List<Profile.Calibrated> calibrations = new ArrayList<>();
        for (int i = 1; i <= pairs; i++) {
            Path profile = dir.resolve("small-" + ports + "-" + i + ".json");
            String pair = "pair " + i + " of " + pairs;
            try (ServeProcess real =
                    ServeProcess.start(host(ports), dir.resolve("serve-real" + i + ".log"), Duration.ofSeconds(180))) {
                warm(dir.resolve("real" + i + "-warm"), real.urls(), pair + ", the real host");
                System.err.println("honesty: " + pair + ", the real host before its calibration");
                Map<String, Figures> before = compare(dir.resolve("real" + i + "-before"), real.urls(), 2);
                System.err.println("honesty: " + pair + ", calibrating on " + real.urls());
                run(
                        dir.resolve("calibrate" + i + ".log"),
                        "sim",
                        "calibrate",
                        "--target",
                        String.join(",", real.urls()),
                        "--max-context",
                        "192",
                        "--out",
                        profile.toString());
                calibrations.add(Profile.load(profile.toString()).calibrated());
                System.err.println("honesty: " + pair + ", the real host after its calibration");
                Map<String, Figures> after = compare(dir.resolve("real" + i), real.urls(), 2);
                reals.add(Figures.combine(before, after, (b, a) -> (b + a) / 2));
                drifts.add(Figures.combine(before, after, (b, a) -> 100 * (a - b) / ((a + b) / 2)));
            }
            List<String> simHost = new ArrayList<>(List.of("--engine", "sim", "--sim-profile", profile.toString()));
            simHost.addAll(host(ports));
            try (ServeProcess sim =
                    ServeProcess.start(simHost, dir.resolve("serve-sim" + i + ".log"), Duration.ofSeconds(180))) {
                warm(dir.resolve("sim" + i + "-warm"), sim.urls(), pair + ", the simulated host");
                System.err.println("honesty: " + pair + ", the simulated host");
                sims.add(compare(dir.resolve("sim" + i), sim.urls(), 2));
            }
        }
        String table = table(reals, drifts, sims) + "\n" + split(reals, sims, calibrations);
        String text = String.format(
                Locale.ROOT,
                "# The sim's honesty check: %d pairs at 1 host × %d ports, %.0f s in all%n%n%s",
                pairs,
                ports,
                (System.nanoTime() - t0) / 1e9,
                table);
        Json.writeText(dir.resolve("honesty.md"), text);
        System.out.print(text);
    }

    /**
     * One unread round of {@code compare} on every cell of a fresh launch, real and simulated alike: a real launch a
     * minute old is still compiling its long-prompt path (its first in=128 out=1 cell sized itself at 48-96 requests a
     * round, 196-256 after its calibration).
     */
    private static void warm(Path out, List<String> urls, String what) {
        System.err.println("honesty: " + what + ", warming on every cell");
        compare(out, urls, 1);
    }

    /** {@code compare} on a host already running, real or simulated alike. */
    private static Map<String, Figures> compare(Path out, List<String> urls, int rounds) {
        List<String> args = List.of(
                "compare",
                "--topologies",
                "httpN",
                "--strategies",
                "none",
                "--rounds",
                String.valueOf(rounds),
                "--cell-sec",
                CELL_SEC,
                "--max-requests",
                MAX_REQUESTS,
                // one request in flight a port, as the calibration loads it (compare's default of 4 at 4 ports)
                "--concurrency",
                String.valueOf(urls.size()),
                "--targets",
                String.join(",", urls),
                "--out",
                out.toString());
        run(out.resolveSibling(out.getFileName() + ".log"), args.toArray(String[]::new));
        Map<String, Figures> cells = new LinkedHashMap<>();
        // keep-alive rows, round 0 pooling the rounds: what the SOP's step 12 reads
        for (Row r : RunData.load(out).summary()) {
            if (r.getNumber("round") == 0
                    && r.getString("topology").equals("httpN")
                    && r.getString("connection").equals("keep-alive"))
                cells.put(
                        r.getString("workload"),
                        new Figures(
                                r.getNumber("output_throughput"),
                                r.getNumber("p50_e2el_ms"),
                                r.getNumber(
                                        Cell.of(r.getString("workload")).out() == 1
                                                ? "median_ttft_ms"
                                                : "median_tpot_ms")));
        }
        if (cells.isEmpty()) throw new IllegalStateException(out + "/summary.csv has no httpN keep-alive rows");
        return cells;
    }

    private static void run(Path log, String... aliasAndArgs) {
        Processes.Run r = Processes.run(1800, aliasAndArgs);
        try {
            Files.writeString(log, r.out() + r.err());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (r.exit() != 0)
            throw new IllegalStateException(String.join(" ", aliasAndArgs) + " exited " + r.exit() + "; see " + log);
    }

    /**
     * One row per cell and figure: each pair's real and simulated figure and their difference, the mean difference with
     * its 95 % interval over the pairs, and its verdict against {@link #MATCH}: within it, off by more than it, or
     * undecided at this machine's noise. The check passes when no figure is off.
     */
    static String table(
            List<Map<String, Figures>> reals, List<Map<String, Figures>> drifts, List<Map<String, Figures>> sims) {
        StringBuilder s =
                new StringBuilder("| cell | figure | real, each launch (mean before and after its calibration) "
                        + "| real's drift over its calibration | simulated, each fit | sim − real, each pair "
                        + "| median | mean, 95 % interval over the pairs | verdict at ±15 % |\n"
                        + "|---|---|---|---|---|---|---|---|---|\n");
        Map<Verdict, Integer> counts = new EnumMap<>(Verdict.class);
        int medianWithin = 0;
        for (String cell : reals.getFirst().keySet()) {
            for (boolean tok : new boolean[] {true, false}) {
                double[] r = figure(reals, cell, tok), m = figure(sims, cell, tok), off = new double[r.length];
                for (int i = 0; i < r.length; i++) off[i] = 100 * (m[i] - r[i]) / r[i];
                double median = Percentiles.median(off);
                if (Math.abs(median) <= 100 * MATCH) medianWithin++;
                Confidence.Interval mean = Confidence.tMean(off, 0.95);
                Verdict v = Verdict.of(mean, 100 * MATCH);
                counts.merge(v, 1, Integer::sum);
                s.append(String.format(
                        Locale.ROOT,
                        "| %s | %s | %s | %s | %s | %s | %+.1f %% | %+.1f %% [%+.1f, %+.1f] | %s |%n",
                        cell,
                        tok ? "tok/s" : "p50 e2el (ms)",
                        list(r, "%.1f"),
                        list(figure(drifts, cell, tok), "%+.0f %%"),
                        list(m, "%.1f"),
                        list(off, "%+.1f %%"),
                        median,
                        mean.estimate(),
                        mean.low(),
                        mean.high(),
                        word(v)));
            }
        }
        int off = counts.getOrDefault(Verdict.CONFIRMED, 0) + counts.getOrDefault(Verdict.CONTRADICTED, 0);
        s.append(String.format(
                Locale.ROOT,
                "%n%s: %d figures within 15 %%, %d off by more, %d undecided at this machine's noise (the simulated host "
                        + "against the real launch it was fitted to, over %d pairs; a t interval of the mean). The "
                        + "median of the pairs within 15 %%: %d of %d.%n",
                off == 0 ? "Passed" : "FAILED",
                counts.getOrDefault(Verdict.NEGLIGIBLE, 0),
                off,
                counts.getOrDefault(Verdict.UNDECIDED, 0),
                reals.size(),
                medianWithin,
                counts.values().stream().mapToInt(Integer::intValue).sum()));
        return s.toString();
    }

    /** A verdict in the check's words: the claim is "the simulated host reads higher". */
    static String word(Verdict v) {
        return switch (v) {
            case NEGLIGIBLE -> "within 15 %";
            case CONFIRMED -> "OFF: sim higher";
            case CONTRADICTED -> "OFF: sim lower";
            case UNDECIDED -> "undecided";
        };
    }

    /**
     * Each pair's difference split at its calibration, per cell: the real launch under {@code compare} against the
     * figure its calibration measured under the same load, the simulated host against its fit's, and the fit against
     * the calibration. A miss where the simulated host holds its fit and the real launch does not is the launch moving,
     * which no fit made before it can follow.
     */
    private static String split(
            List<Map<String, Figures>> reals, List<Map<String, Figures>> sims, List<Profile.Calibrated> calibrations) {
        StringBuilder s =
                new StringBuilder("| cell | calibration's figure | real under compare ÷ its calibration, each "
                        + "pair | simulated under compare ÷ its fit | fit ÷ calibration |\n|---|---|---|---|---|\n");
        int shortest = reals.getFirst().keySet().stream()
                .mapToInt(w -> Cell.of(w).in())
                .min()
                .orElseThrow();
        for (String w : reals.getFirst().keySet()) {
            Cell cell = Cell.of(w);
            boolean longPrompt = cell.in() > shortest;
            double[] real = new double[reals.size()], sim = new double[reals.size()], fit = new double[reals.size()];
            for (int i = 0; i < reals.size(); i++) {
                Profile.Calibrated c = calibrations.get(i);
                double host = c == null ? Double.NaN : cell.calibrated(c.host(), longPrompt),
                        kept = c == null ? Double.NaN : cell.calibrated(c.simulated(), longPrompt);
                real[i] = reals.get(i).get(w).calibratedMs() / host;
                sim[i] = sims.get(i).get(w).calibratedMs() / kept;
                fit[i] = kept / host;
            }
            s.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %s | %s | %s |%n",
                    w,
                    cell.out() == 1 ? "p50 time to the first token" : "p50 time per token",
                    list(real, "%.2f"),
                    list(sim, "%.2f"),
                    list(fit, "%.2f")));
        }
        return s.toString();
    }

    private static double[] figure(List<Map<String, Figures>> runs, String cell, boolean tok) {
        return runs.stream()
                .map(m -> m.get(cell))
                .mapToDouble(f -> f == null ? Double.NaN : tok ? f.tokPerSec() : f.p50E2elMs())
                .toArray();
    }

    private static String list(double[] x, String format) {
        StringBuilder s = new StringBuilder();
        for (double v : x) s.append(s.isEmpty() ? "" : " / ").append(String.format(Locale.ROOT, format, v));
        return s.toString();
    }
}
