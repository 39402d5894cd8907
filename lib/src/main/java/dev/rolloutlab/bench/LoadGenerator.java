package dev.rolloutlab.bench;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.RequestRecord;
import dev.rolloutlab.results.Slo;
import dev.rolloutlab.results.Summary;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.util.SpanLog;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Sends a workload to one or more targets and records every request. Closed loop keeps {@code concurrency} requests in
 * flight; open loop sends at {@code rate} per second (Poisson or constant arrivals) whatever the targets do, so latency
 * measured from the scheduled time includes any queueing (no coordinated omission). Requests run on virtual threads;
 * the per-request path allocates only its record. When each request goes is its {@link Schedules}; sending and
 * recording it, the {@link Recorder}.
 */
public final class LoadGenerator {
    /**
     * How a request picks its target: in turn, the one with fewest in flight, or by its session (a GRPO group's or a
     * conversation's {@code X-Session-Id}, hashed, so all of it lands on one target; requests without one by fewest in
     * flight).
     */
    public enum Routing {
        ROUND_ROBIN,
        LEAST_OUTSTANDING,
        AFFINITY
    }

    public enum Arrivals {
        POISSON,
        CONSTANT
    }

    /** How to drive the load. {@code concurrency > 0} is closed loop; otherwise {@code rate} requests/s, open loop. */
    public record Options(
            Topology topology,
            Connection connection,
            int concurrency,
            double rate,
            Arrivals arrivals,
            int maxConcurrency,
            int numRequests,
            Duration duration,
            int warmup,
            long seed,
            Routing routing,
            Slo slo,
            PrintStream progress) {
        public static Options closed(Topology topology, Connection connection, int concurrency, int numRequests) {
            return new Options(
                    topology,
                    connection,
                    concurrency,
                    0,
                    Arrivals.POISSON,
                    0,
                    numRequests,
                    null,
                    0,
                    0,
                    Routing.ROUND_ROBIN,
                    Slo.NONE,
                    null);
        }

        public static Options open(Topology topology, Connection connection, double rate, int numRequests) {
            return new Options(
                    topology,
                    connection,
                    0,
                    rate,
                    Arrivals.POISSON,
                    0,
                    numRequests,
                    null,
                    0,
                    0,
                    Routing.ROUND_ROBIN,
                    Slo.NONE,
                    null);
        }

        public Options withWarmup(int n) {
            return new Options(
                    topology,
                    connection,
                    concurrency,
                    rate,
                    arrivals,
                    maxConcurrency,
                    numRequests,
                    duration,
                    n,
                    seed,
                    routing,
                    slo,
                    progress);
        }

        public Options withRouting(Routing r) {
            return new Options(
                    topology,
                    connection,
                    concurrency,
                    rate,
                    arrivals,
                    maxConcurrency,
                    numRequests,
                    duration,
                    warmup,
                    seed,
                    r,
                    slo,
                    progress);
        }
    }

    /** What a run measured; {@code incomplete} with a reason when it was stopped early. */
    public record Run(List<RequestRecord> records, Summary summary, boolean incomplete, String reason) {
        /** Whether the leg stopped because its first requests all failed alike (the reason says why and the fix). */
        public boolean failedFast() {
            return reason != null && reason.startsWith(FailFast.PREFIX);
        }
    }

    private final Workload workload;
    /** A trace's send times, ms from the start (null: arrivals from the options). */
    private final double[] atMs;

    private final Options o;
    private final Recorder recorder;

    public LoadGenerator(List<Target> targets, Workload workload, Options options) {
        this(targets, workload, null, options);
    }

    /**
     * A trace's replay: open loop, each request scheduled at its time in the trace, whatever {@code options}' rate;
     * latency counts from that time.
     */
    public LoadGenerator(List<Target> targets, MooncakeTrace.Replay trace, Options options) {
        this(targets, trace.workload(), trace.atMs(), options);
    }

    private LoadGenerator(List<Target> targets, Workload workload, double[] atMs, Options options) {
        if (targets.isEmpty()) throw new IllegalArgumentException("no targets");
        if (atMs == null && options.concurrency() <= 0 && !(options.rate() > 0))
            throw new IllegalArgumentException("give --concurrency C or --rate R");
        if (options.numRequests() <= 0 && options.duration() == null)
            throw new IllegalArgumentException("give --num-prompts or --duration-sec");
        this.workload = workload;
        this.atMs = atMs;
        this.o = options;
        this.recorder = new Recorder(targets, options);
    }

    /**
     * Sends every measured request with a new W3C trace and keeps its spans in {@code log} (from its scheduled time:
     * waiting to be sent, to its first token, the rest), so serve's and the balancer's spans of it join them.
     */
    public LoadGenerator traced(SpanLog log) {
        recorder.traced(log);
        return this;
    }

    /** When the measured part of {@link #run()} began ({@link System#nanoTime()}): the origin of its records' times. */
    public long originNs() {
        return recorder.originNs();
    }

    /** Asks a running {@link #run()} to stop scheduling; it returns what was measured, marked incomplete. */
    public void stop(String reason) {
        recorder.stop(reason);
    }

    public Run run() throws InterruptedException {
        List<CompletionRequest> reqs = workload.requests();
        for (int i = 0; i < o.warmup(); i++) recorder.sendUnrecorded(Workload.unshared(reqs.get(i % reqs.size())));
        long t0 = recorder.start();
        long end = o.duration() == null ? Long.MAX_VALUE : t0 + o.duration().toNanos();
        int total = o.numRequests() > 0 ? o.numRequests() : Integer.MAX_VALUE;
        Thread progress =
                o.progress() == null ? null : Thread.ofPlatform().daemon(true).start(() -> report(total, t0));
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            if (atMs != null) Schedules.open(pool, recorder, reqs, atMs, o, Math.min(total, reqs.size()), end);
            else if (o.concurrency() > 0 && workload.turns() != null)
                Schedules.sessions(pool, recorder, reqs, workload.turns(), o.concurrency(), total, end);
            else if (o.concurrency() > 0) Schedules.closed(pool, recorder, reqs, o.concurrency(), total, end);
            else Schedules.open(pool, recorder, reqs, null, o, total, end);
            pool.shutdown();
            while (!pool.awaitTermination(1, TimeUnit.SECONDS)) {
                if (recorder.stopReason() != null && System.nanoTime() > end) break;
            }
        }
        double duration = (System.nanoTime() - t0) / 1e9;
        if (progress != null) progress.interrupt();
        List<RequestRecord> list = recorder.records();
        String stopReason = recorder.stopReason();
        boolean incomplete = stopReason != null;
        Summary s = Summary.of(o.topology(), o.connection(), workload.name(), list, duration, o.slo(), incomplete);
        if (o.progress() != null) {
            o.progress()
                    .printf(
                            "[%s/%s] done: %d ok, %d failed in %.1f s%s%n",
                            o.topology(),
                            o.connection(),
                            s.completed(),
                            s.failed(),
                            duration,
                            incomplete ? " (incomplete: " + stopReason + ")" : "");
        }
        return new Run(list, s, incomplete, stopReason);
    }

    private void report(int total, long t0) {
        try {
            while (true) {
                Thread.sleep(2000);
                double sec = (System.nanoTime() - t0) / 1e9;
                int n = recorder.recorded();
                o.progress()
                        .printf(
                                "[%s/%s] %d%s requests, %d failed, %.1f req/s, %.0f s%n",
                                o.topology(),
                                o.connection(),
                                n,
                                total == Integer.MAX_VALUE ? "" : "/" + total,
                                recorder.failed(),
                                n / sec,
                                sec);
            }
        } catch (InterruptedException done) {
            // run finished
        }
    }
}
