package dev.rolloutlab.sim;

import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.report.RunData;
import dev.rolloutlab.results.Percentiles;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.Row;

/**
 * The sim's honesty check (a benchmark for docs/benchmarks.md, not a test), {@code sop/sim-predict-a-pod.md} steps 8–12
 * in one command: {@code tests/bench honesty [PAIRS] [DIR]}. It calibrates on a real host of 4 ports, then runs
 * {@code compare} on a fresh real launch and on a simulated host with the fit, interleaved PAIRS times, and holds the
 * simulated host's median to the real host's median over its launches, cell by cell, within 15 %. One real launch alone
 * cannot be the reference: on a shared VM the same real host moved by up to 44 % between launches minutes apart, so the
 * real side's own launch-to-launch spread is printed beside each cell.
 */
public final class SimHonestyBenchmark {
    private static final double MATCH = 0.15;
    private static final List<String> HOST =
            List.of("--shape", "small", "--num-servers", "4", "--base-port", "0", "--prefix-cache-mb", "0");

    private SimHonestyBenchmark() {}

    /** One cell's output throughput and median e2el, from one compare run. */
    private record Figures(double tokPerSec, double p50E2elMs) {}

    public static void main(String[] args) throws Exception {
        int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        if (pairs < 2 || pairs > 9) {
            System.err.println("usage: tests/bench honesty [PAIRS 2..9, default 3] [DIR, default target/honesty]");
            System.exit(2);
        }
        Path dir = Path.of(args.length > 1 ? args[1] : "target/honesty").toAbsolutePath();
        Files.createDirectories(dir);
        long t0 = System.nanoTime();
        Path profile = dir.resolve("small-4.json");
        try (ServeProcess real =
                ServeProcess.start(HOST, dir.resolve("serve-calibrate.log"), Duration.ofSeconds(180))) {
            System.err.println("honesty: calibrating on " + real.urls());
            run(
                    dir.resolve("calibrate.log"),
                    "sim",
                    "calibrate",
                    "--target",
                    String.join(",", real.urls()),
                    "--max-context",
                    "192",
                    "--out",
                    profile.toString());
        }
        System.err.printf(Locale.ROOT, "honesty: calibrated in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        List<Map<String, Figures>> reals = new ArrayList<>(), sims = new ArrayList<>();
        for (int i = 1; i <= pairs; i++) {
            System.err.println("honesty: pair " + i + " of " + pairs + ", the real host");
            reals.add(compare(dir.resolve("real" + i), List.of()));
            List<String> simHost = new ArrayList<>(List.of("--engine", "sim", "--sim-profile", profile.toString()));
            simHost.addAll(HOST);
            try (ServeProcess sim =
                    ServeProcess.start(simHost, dir.resolve("serve-sim" + i + ".log"), Duration.ofSeconds(180))) {
                System.err.println("honesty: pair " + i + " of " + pairs + ", the simulated host");
                sims.add(compare(dir.resolve("sim" + i), List.of("--targets", String.join(",", sim.urls()))));
            }
        }
        String table = table(reals, sims);
        String text = String.format(
                Locale.ROOT,
                "# The sim's honesty check: %d pairs, %.0f s in all%n%n%s",
                pairs,
                (System.nanoTime() - t0) / 1e9,
                table);
        Json.writeText(dir.resolve("honesty.md"), text);
        System.out.print(text);
    }

    private static Map<String, Figures> compare(Path out, List<String> targets) {
        List<String> args = new ArrayList<>(List.of(
                "compare", "--topologies", "httpN", "--strategies", "none", "--rounds", "2", "--out", out.toString()));
        args.addAll(targets);
        run(out.resolveSibling(out.getFileName() + ".log"), args.toArray(String[]::new));
        Map<String, Figures> cells = new LinkedHashMap<>();
        // keep-alive rows, round 0 pooling the rounds: what the SOP's step 12 reads
        for (Row r : RunData.load(out).summary()) {
            if (r.getNumber("round") == 0
                    && r.getString("topology").equals("httpN")
                    && r.getString("connection").equals("keep-alive"))
                cells.put(
                        r.getString("workload"),
                        new Figures(r.getNumber("output_throughput"), r.getNumber("p50_e2el_ms")));
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

    /** One row per cell and figure: each launch, both medians, sim − real, and the real host's own spread. */
    private static String table(List<Map<String, Figures>> reals, List<Map<String, Figures>> sims) {
        StringBuilder s = new StringBuilder(
                "| cell | figure | real, each launch | simulated, each launch | real median | simulated median | "
                        + "sim − real | real's spread | within 15 % |\n|---|---|---|---|---|---|---|---|---|\n");
        int n = 0, ok = 0;
        for (String cell : reals.getFirst().keySet()) {
            for (boolean tok : new boolean[] {true, false}) {
                double[] r = figure(reals, cell, tok), m = figure(sims, cell, tok);
                double rm = Percentiles.median(r), sm = Percentiles.median(m), off = (sm - rm) / rm;
                double spread = (Arrays.stream(r).max().orElseThrow()
                                - Arrays.stream(r).min().orElseThrow())
                        / rm;
                boolean match = Math.abs(off) <= MATCH;
                n++;
                if (match) ok++;
                s.append(String.format(
                        Locale.ROOT,
                        "| %s | %s | %s | %s | %.1f | %.1f | %+.1f %% | %.0f %% | %s |%n",
                        cell,
                        tok ? "tok/s" : "p50 e2el (ms)",
                        list(r),
                        list(m),
                        rm,
                        sm,
                        100 * off,
                        100 * spread,
                        match ? "yes" : "NO"));
            }
        }
        s.append(String.format(
                Locale.ROOT,
                "%nWithin 15 %%: %d of %d (the simulated host's median against the real host's median over %d "
                        + "launches)%n",
                ok,
                n,
                reals.size()));
        return s.toString();
    }

    private static double[] figure(List<Map<String, Figures>> runs, String cell, boolean tok) {
        return runs.stream()
                .map(m -> m.get(cell))
                .mapToDouble(f -> f == null ? Double.NaN : tok ? f.tokPerSec() : f.p50E2elMs())
                .toArray();
    }

    private static String list(double[] x) {
        StringBuilder s = new StringBuilder();
        for (double v : x) s.append(s.isEmpty() ? "" : " / ").append(String.format(Locale.ROOT, "%.1f", v));
        return s.toString();
    }
}
