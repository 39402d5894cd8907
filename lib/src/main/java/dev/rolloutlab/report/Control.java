package dev.rolloutlab.report;

import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Verdict;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import tech.tablesaw.api.Row;

/**
 * The zero-compute control beside the real engine: the same grid on clock engines whose steps take no time, so each
 * HTTP leg's tax over in-process there is HTTP's cost alone. Where the real engine's tax exceeds it, the engine's
 * compute and the HTTP path slow each other (they share the cores); where they agree, the tax is the transport's.
 */
final class Control {
    private Control() {}

    /** The control's run folder ({@code control/}), when compare ran one. */
    static Optional<RunData> of(RunData d) {
        return Files.exists(d.dir().resolve("control").resolve("summary.csv"))
                ? Optional.of(RunData.load(d.dir().resolve("control")))
                : Optional.empty();
    }

    /** The real engine's tax minus the control's, in words that say which is larger, with the verdict's interval. */
    private static String reading(Confidence.Interval gap, double t) {
        String v = Verdict.describe(gap, t, "ms");
        String ci = v.substring(v.indexOf('('));
        return switch (Verdict.of(gap, t)) {
            case CONFIRMED -> "real larger: compute and the HTTP path slow each other " + ci;
            case CONTRADICTED ->
                "control larger: with compute, serve's and the client's per-token work overlaps the "
                        + "engine's decode " + ci;
            case NEGLIGIBLE -> "the same " + ci;
            case UNDECIDED -> v;
        };
    }

    /**
     * A leg's CPU ms per request, client + serve + balancer, rounds pooled; null where cpu.csv did not measure it. On
     * the control it is the same code on the same requests in every run: it moves only with the machine's speed.
     */
    static Double cpuPerRequest(RunData z, String topology, String connection, String workload) {
        return z.cpu()
                .map(t -> {
                    double sum = 0;
                    boolean any = false;
                    for (String col : CPU_COLUMNS) {
                        Double v = Charts.find(t, topology, connection, workload, col);
                        if (v != null) {
                            sum += v;
                            any = true;
                        }
                    }
                    return any ? sum : null;
                })
                .orElse(null);
    }

    private static final List<String> CPU_COLUMNS =
            List.of("client_cpu_ms_per_request", "server_cpu_ms_per_request", "lb_cpu_ms_per_request");

    static String markdown(RunData d) {
        Optional<RunData> control = of(d);
        if (control.isEmpty()) return "";
        RunData z = control.get();
        StringBuilder rows = new StringBuilder();
        for (Row r : z.legs()) {
            String t = r.getString("topology"), c = r.getString("connection"), w = r.getString("workload");
            String base = z.baseline(t);
            if (base == null) continue;
            Confidence.Interval zero = Pairs.overBaseline(z, Pairs.Metric.TAX, t, c, w);
            Confidence.Interval real = d.hasEngineTimings() ? Pairs.overBaseline(d, Pairs.Metric.TAX, t, c, w) : null;
            if (zero == null) continue;
            Confidence.Interval gap = real == null
                    ? null
                    : new Confidence.Interval(
                            real.estimate() - zero.estimate(),
                            real.estimate() - zero.estimate() - Math.hypot(real.halfWidth(), zero.halfWidth()),
                            real.estimate() - zero.estimate() + Math.hypot(real.halfWidth(), zero.halfWidth()),
                            0.95);
            rows.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %s | %s | %s | %s | %s |%n",
                    t,
                    c,
                    w,
                    Overheads.interval(zero),
                    Optional.ofNullable(cpuPerRequest(z, t, c, w))
                            .map(x -> String.format(Locale.ROOT, "%.2f", x))
                            .orElse(""),
                    Overheads.interval(real),
                    gap == null ? "" : reading(gap, Findings.threshold(d, d.legs(), t, w))));
        }
        if (rows.isEmpty()) return "";
        return "\n## Zero-compute control\n\nThe same grid, topologies and connections again on clock engines whose "
                + "steps take no time (`serve --engine sim --sim-profile zero-compute`, and the same clock in this "
                + "JVM for the in-process legs; results in `control/`). With no compute to vary, each HTTP leg's tax "
                + "over in-process there is HTTP's cost alone. It still moves with the machine's speed: beside it, the "
                + "CPU the control leg's processes spent per request (client, serve and balancer) is the same code on "
                + "the same requests in every run, so between two runs a control tax that moved with it measures the "
                + "machine, not HTTP (on a cloud VM both moved by half between runs minutes apart). The last column "
                + "reads the real engine's tax minus the control's (intervals in quadrature) against the findings' "
                + "threshold: larger means the engine's compute and the HTTP path slow each other on the shared cores; "
                + "smaller means the path's per-token work (serialising and parsing each streamed token) ran while "
                + "the engine decoded the next one, hidden in its time.\n\n"
                + "| topology | connection | workload | control: tax over in-process (ms), 95 % CI | control: CPU "
                + "per request (ms) | real engine: tax over in-process (ms), 95 % CI | real − control |\n"
                + "|---|---|---|---|---|---|---|\n"
                + rows;
    }
}
