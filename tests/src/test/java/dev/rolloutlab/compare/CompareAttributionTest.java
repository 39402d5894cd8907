package dev.rolloutlab.compare;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.benchmarks.HttpBenchmark;
import dev.rolloutlab.engine.model.DefaultModels;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.report.Breakdown;
import dev.rolloutlab.report.RunData;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Row;

/**
 * The breakdown finds a cost where it was put: serve's test-only delay of 5 ms per request must show up as serve's own
 * time (total minus the engine's parts) and nowhere else, and must turn the HTTP − in-process verdict into "confirmed".
 * Without the delay, what the breakdown calls client + transport stays near what the HTTP benchmark measures for the
 * whole HTTP round trip.
 */
class CompareAttributionTest {
    private static final String SERVE = "serve (parse, serialise)", REST = "client + transport";
    private static final String SERVE_DELAY = ServerGroup.TestDelays.SERVE_ENV,
            ENGINE_STEP_DELAY = ServerGroup.TestDelays.ENGINE_STEP_ENV;

    @Test
    void aKnownServeDelayIsAttributedToServeAndConfirmsTheOverhead() throws Exception {
        Path plain = compare("plain", Map.of(), 1), delayed = compare("delayed", Map.of(SERVE_DELAY, "5"), 1);
        Map<String, Double> p = part(plain, "http1/keep-alive"), d = part(delayed, "http1/keep-alive");
        // the chart's means put the delay in serve's bar and nowhere else: each bar moves by the delay or not at all,
        // decided at half the delay (on a loaded machine a mean also carries preemptions, which move it by a
        // millisecond or two between runs: a hog's time slice landing inside serve's work in one run and not the next).
        // Serve's bar has no upper side: the delay is spent on the CPU, and beside a CPU hog 5 ms of spinning made
        // serve's part 9.2 ms longer (its thread waited for a core around the spin); that is the machine's cost, and
        // it belongs in serve's bar, which is where the test looks for it, and the other bars must not move
        // Client + transport's mean is held to less than half of what serve's bar gained (the delay is not split
        // between the two); its median is held to the delay's half below. A mean carries the tail: in one clean run
        // the spinning serve thread held one of two cores while the client JVM's own threads wanted it, and the
        // client's mean moved +4.4 ms where serve's moved more
        double added = d.get(SERVE) - p.get(SERVE), restMoved = d.get(REST) - p.get(REST);
        assertTrue(added >= 2.5, "the delay is in serve's bar: plain " + p + ", delayed " + d);
        assertTrue(restMoved < 0.5 * added, "and not in client + transport: plain " + p + ", delayed " + d);
        assertEquals(
                0.0,
                d.get("engine queue") - p.get("engine queue"),
                1.0,
                "one request at a time never queues: " + p + " / " + d);

        // per request, the medians (which preemptions' tails do not move) say how much: serve spends the delay on the
        // CPU and a spin never ends early, so every delayed request's part holds the whole 5 ms, and so does their
        // median. Not "grows by 5 ms from the plain run": serve's own work beside the spin is another run's, and it
        // moved by 0.05 ms between two runs on this VM, more than four standard errors of the medians (a spin can end
        // late: +0.56 ms in one suite run, the vCPU likely descheduled while it spun, so the upper side is the
        // chart's 5 + 2.5 above).
        // Client + transport is held to the chart's boundary only: with the delay the client's read blocks 5 ms
        // longer and wakes later on a VM whose idle vCPUs halt (+0.43 ms at the median in one run)
        Median serveP = median(plain, "http1", SERVE_PART), serveD = median(delayed, "http1", SERVE_PART);
        Median restP = median(plain, "http1", REST_PART), restD = median(delayed, "http1", REST_PART);
        assertTrue(
                serveD.ms() >= 5.0 && serveD.ms() > serveP.ms() + 2.5,
                "serve's median part holds the whole delay: " + serveP + " -> " + serveD);
        assertEquals(
                0.0,
                restD.ms() - restP.ms(),
                2.5,
                "client + transport's median does not take the delay (moved or not, decided at half of it): " + restP
                        + " -> " + restD);
        String md = Files.readString(delayed.resolve("REPORT.md"));
        assertTrue(md.contains("**In-process has lower per-request overhead** — confirmed"), md);

        // without the delay, at concurrency 1 and max_tokens=1: the median client + transport over HTTP, less the
        // in-process path's own, stays near what the HTTP benchmark measures for the same part, its median round trip
        // less serve's own Server-Timing total (so no engine time enters: a whole round trip against an in-process
        // call in this test JVM once read 0.065 ms, the two JVMs' engines computing at different speeds): within 3x
        // plus 0.5 ms, a stated margin (compare warms each leg with hundreds of requests, the benchmark with 3,000)
        double rest = restP.ms() - median(plain, "inproc", REST_PART).ms();
        double bench;
        Path model = DefaultModels.ensure("tiny");
        try (ServeProcess serve = ServeProcess.start(
                List.of("--model", model.toString(), "--num-servers", "1", "--base-port", "0"),
                TestModels.tempDir("attr-bench").resolve("serve.log"),
                Duration.ofSeconds(120))) {
            bench = HttpBenchmark.overhead(model, serve.urls().get(0), 300, 3000)
                    .keepAliveOutsideServerMs();
        }
        assertTrue(
                rest > 0 && rest <= 3 * bench + 0.5,
                "client + transport " + rest + " ms vs the benchmark's " + bench + " ms");
    }

    /** The engine's own time of a request: its queue, prefill and decode. */
    private static double engineMs(Row r) {
        return (r.isMissing("server_timing_queue_ms") ? 0 : r.getNumber("server_timing_queue_ms"))
                + (r.isMissing("server_timing_prefill_ms") ? 0 : r.getNumber("server_timing_prefill_ms"))
                + r.getNumber("server_timing_decode_ms");
    }

    /** Serve's own part of a request, as the breakdown computes it: the server's total less the engine's time. */
    private static final ToDoubleFunction<Row> SERVE_PART = r -> r.getNumber("server_timing_total_ms") - engineMs(r);

    /** A request's end-to-end latency. */
    private static final ToDoubleFunction<Row> E2EL = r -> r.getNumber("e2el_ms");

    /** HTTP's tax on a request: its e2el less the engine's own time. */
    private static final ToDoubleFunction<Row> TAX = r -> r.getNumber("e2el_ms") - engineMs(r);

    /** Client + transport of a request: e2el less the server's total (in-process, less the engine's own time). */
    private static final ToDoubleFunction<Row> REST_PART = r -> r.getNumber("e2el_ms")
            - (r.isMissing("server_timing_total_ms") ? engineMs(r) : r.getNumber("server_timing_total_ms"));

    /**
     * A median in ms and its standard error, 1.57·IQR/√n (the notch of McGill, Tukey and Larsen's box plot), which
     * holds for the skewed, heavy-tailed latencies of a loaded machine where a normal approximation would not.
     */
    record Median(double ms, double standardErrorMs, int n) {
        static Median of(double[] xs) {
            double[] s = xs.clone();
            Arrays.sort(s);
            double iqr = quantile(s, 0.75) - quantile(s, 0.25);
            return new Median(quantile(s, 0.5), 1.57 * iqr / Math.sqrt(s.length) / 1.96, s.length);
        }

        private static double quantile(double[] sorted, double q) {
            double i = q * (sorted.length - 1);
            int lo = (int) Math.floor(i), hi = (int) Math.ceil(i);
            return sorted[lo] + (i - lo) * (sorted[hi] - sorted[lo]);
        }
    }

    /** The median of {@code part} over the ok requests of {@code topology} (HTTP: keep-alive) that report timings. */
    private static Median median(Path run, String topology, ToDoubleFunction<Row> part) {
        List<Double> xs = new ArrayList<>();
        for (Row r : RunData.load(run).requests()) {
            if (!r.getBoolean("ok")
                    || !r.getString("topology").equals(topology)
                    || (topology.equals("http1") && !r.getString("connection").equals("keep-alive"))
                    || (topology.equals("http1") && r.isMissing("server_timing_total_ms"))
                    || r.isMissing("server_timing_decode_ms")) continue;
            xs.add(part.applyAsDouble(r));
        }
        assertTrue(
                xs.size() >= 30, "too few " + topology + " requests to estimate a spread: " + xs.size() + " in " + run);
        return Median.of(xs.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /**
     * The tax leaves the engine out when only the HTTP leg's engine is slowed: 10 ms more per engine step lands in the
     * engine's own time, so the e2el difference between the legs grows by at least 10 ms while the tax difference moves
     * by less than half of that. One token per request: with many, serve's and the client's per-token work would
     * overlap a slower engine's next step and hide in its time, a real effect the zero-compute control shows, not this
     * test's subject.
     */
    @Test
    void slowingOneLegsEngineMovesTheE2elDifferenceButNotTheTax() throws Exception {
        Path plain = compare("tax-plain", Map.of(), 1),
                slowed = compare("tax-slowed", Map.of(ENGINE_STEP_DELAY, "10"), 1);
        // per request, medians: a preemption's tail moves a mean between runs, not a median
        Median e2elIn = median(plain, "inproc", E2EL), e2elHttp = median(plain, "http1", E2EL);
        Median slowIn = median(slowed, "inproc", E2EL), slowHttp = median(slowed, "http1", E2EL);
        // the wait never ends early: one step of at least 10 ms more, less four standard errors of the four medians
        // (in one CI run it grew by 9.93 ms: the medians' own spread, not an early end)
        double e2elMoved = (slowHttp.ms() - slowIn.ms()) - (e2elHttp.ms() - e2elIn.ms());
        double e2elMargin = 4
                * Math.sqrt(sq(e2elIn.standardErrorMs())
                        + sq(e2elHttp.standardErrorMs())
                        + sq(slowIn.standardErrorMs())
                        + sq(slowHttp.standardErrorMs()));
        assertTrue(
                e2elMoved >= 10.0 - e2elMargin,
                "the e2el difference grows by the slowed step (less ±" + e2elMargin + " ms from the runs' spread): +"
                        + e2elMoved + " ms; plain " + List.of(e2elIn, e2elHttp) + ", slowed "
                        + List.of(slowIn, slowHttp));
        // the tax leaves the engine's slowdown out: it may move by less than half of what e2el moved (the boundary
        // between "the tax follows the engine" and "it does not"). Not to zero: over HTTP a request blocked longer
        // also wakes later, on two threads (serve's and the client's) where in-process on one, and on a VM whose idle
        // vCPUs halt that wake-up grows with the wait (+3.1 ms of tax for +10 ms of engine in two runs)
        Median taxIn = median(plain, "inproc", TAX), taxHttp = median(plain, "http1", TAX);
        Median slowTaxIn = median(slowed, "inproc", TAX), slowTaxHttp = median(slowed, "http1", TAX);
        double taxMoved = (slowTaxHttp.ms() - slowTaxIn.ms()) - (taxHttp.ms() - taxIn.ms());
        assertTrue(
                Math.abs(taxMoved) < 0.5 * e2elMoved,
                "the tax (e2el minus the engine's own time) leaves the slower engine out: it moved " + taxMoved
                        + " ms where e2el moved " + e2elMoved + " ms; plain " + List.of(taxIn, taxHttp) + ", slowed "
                        + List.of(slowTaxIn, slowTaxHttp));
        // the headline reads the tax, whatever its verdict: at one request at a time on the tiny model HTTP's tax is
        // about 1 ms, right at the threshold, so "confirmed" and "undecided" are both honest here
        String md = Files.readString(slowed.resolve("REPORT.md"));
        assertTrue(md.contains("**In-process has lower per-request overhead** — "), md);
        assertTrue(md.contains("HTTP's tax (e2el minus the engine's own queue, prefill and decode"), md);
    }

    private static Path compare(String name, Map<String, String> env, int outputLen) {
        Path out = TestModels.tempDir("attr-" + name).resolve("run");
        Processes.Run r = Processes.run(
                env,
                300,
                "compare",
                "--quick",
                "--topologies",
                "inproc,http1",
                "--strategies",
                "none",
                "--prompt-lens",
                "8",
                "--output-lens",
                String.valueOf(outputLen),
                "--concurrency",
                "1",
                "--out",
                out.toString());
        assertEquals(0, r.exit(), r.err());
        return out;
    }

    private static double sq(double x) {
        return x * x;
    }

    /** Each part of one bar of the stacked breakdown chart, by series name. */
    private static Map<String, Double> part(Path run, String bar) {
        var chart = Breakdown.chart(RunData.load(run));
        Map<String, Double> out = new LinkedHashMap<>();
        chart.getSeriesMap().forEach((name, s) -> {
            List<Object> xs = new ArrayList<>(s.getXData());
            List<Number> ys = new ArrayList<>(s.getYData());
            out.put(name, ys.get(xs.indexOf(bar)).doubleValue());
        });
        return out;
    }
}
