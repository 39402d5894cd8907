package dev.rolloutlab.bench;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.RequestRecord;
import dev.rolloutlab.results.Slo;
import dev.rolloutlab.results.Summary;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.util.SpanLog;
import dev.rolloutlab.util.TraceParent;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Sends a workload to one or more targets and records every request. Closed loop keeps {@code concurrency} requests in
 * flight; open loop sends at {@code rate} per second (Poisson or constant arrivals) whatever the targets do, so latency
 * measured from the scheduled time includes any queueing (no coordinated omission). Requests run on virtual threads;
 * the per-request path allocates only its record.
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

    private final List<Target> targets;
    private final Workload workload;
    /** A trace's send times, ms from the start (null: arrivals from the options). */
    private final double[] atMs;

    private final Options o;
    private SpanLog spans = SpanLog.OFF;
    private final ConcurrentLinkedQueue<RequestRecord> records = new ConcurrentLinkedQueue<>();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicLong rr = new AtomicLong();
    private final AtomicIntegerArray inFlight;
    private volatile String stopReason;
    private final FailFast failFast = new FailFast();
    private long t0;

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
        this.targets = targets;
        this.workload = workload;
        this.atMs = atMs;
        this.o = options;
        this.inFlight = new AtomicIntegerArray(targets.size());
    }

    /**
     * Sends every measured request with a new W3C trace and keeps its spans in {@code log} (from its scheduled time:
     * waiting to be sent, to its first token, the rest), so serve's and the balancer's spans of it join them.
     */
    public LoadGenerator traced(SpanLog log) {
        this.spans = log;
        return this;
    }

    /** When the measured part of {@link #run()} began ({@link System#nanoTime()}): the origin of its records' times. */
    public long originNs() {
        return t0;
    }

    /** Asks a running {@link #run()} to stop scheduling; it returns what was measured, marked incomplete. */
    public void stop(String reason) {
        stopReason = reason;
    }

    public Run run() throws InterruptedException {
        List<CompletionRequest> reqs = workload.requests();
        for (int i = 0; i < o.warmup(); i++) send(Workload.unshared(reqs.get(i % reqs.size())), pick(null), null);
        t0 = System.nanoTime();
        long end = o.duration() == null ? Long.MAX_VALUE : t0 + o.duration().toNanos();
        int total = o.numRequests() > 0 ? o.numRequests() : Integer.MAX_VALUE;
        Thread progress =
                o.progress() == null ? null : Thread.ofPlatform().daemon(true).start(() -> report(total));
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            if (atMs != null) openLoop(pool, reqs, Math.min(total, reqs.size()), end);
            else if (o.concurrency() > 0 && workload.turns() != null)
                sessions(pool, reqs, workload.turns(), total, end);
            else if (o.concurrency() > 0) closedLoop(pool, reqs, total, end);
            else openLoop(pool, reqs, total, end);
            pool.shutdown();
            while (!pool.awaitTermination(1, TimeUnit.SECONDS)) {
                if (stopReason != null && System.nanoTime() > end) break;
            }
        }
        double duration = (System.nanoTime() - t0) / 1e9;
        if (progress != null) progress.interrupt();
        List<RequestRecord> list = new ArrayList<>(records);
        list.sort(Comparator.comparingLong(RequestRecord::requestId));
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

    private void closedLoop(ExecutorService pool, List<CompletionRequest> reqs, int total, long end) {
        AtomicInteger next = new AtomicInteger();
        for (int w = 0; w < o.concurrency(); w++) {
            pool.submit(() -> {
                while (stopReason == null) {
                    int i = next.getAndIncrement();
                    if (i >= total || System.nanoTime() >= end) return;
                    long scheduled = System.nanoTime();
                    record(i, scheduled, reqs.get(i % reqs.size()));
                }
            });
        }
    }

    /**
     * Closed loop over multi-turn sessions: each of {@code concurrency} workers runs one session at a time, its turns
     * one after another, each turn's prompt the last one's plus its answer and a tool result, sent after the tool's
     * time. Requests are numbered session by session, turn by turn; a failed turn ends its session.
     */
    private void sessions(
            ExecutorService pool, List<CompletionRequest> reqs, Workload.Turns turns, int total, long end) {
        AtomicInteger next = new AtomicInteger();
        long toolNs = (long) (turns.toolMs() * 1e6);
        for (int w = 0; w < o.concurrency(); w++) {
            pool.submit(() -> {
                while (stopReason == null) {
                    int s = next.getAndIncrement();
                    if ((long) s * turns.turns() >= total || System.nanoTime() >= end) return;
                    CompletionRequest req = reqs.get(s % reqs.size())
                            .withSessionId("session-" + s)
                            .withReturnTokenIds(true);
                    for (int t = 0; t < turns.turns() && stopReason == null; t++) {
                        long id = (long) s * turns.turns() + t;
                        if (id >= total || System.nanoTime() >= end) return;
                        OpenAiClient.Result r = record(id, System.nanoTime(), req);
                        if (!r.ok() || r.tokenIds() == null) break;
                        req = req.toBuilder()
                                .promptTokenIds(turns.next(req.promptTokenIds(), r.tokenIds(), id))
                                .build();
                        // the tool runs: think time, not latency
                        for (long until = System.nanoTime() + toolNs, left; (left = until - System.nanoTime()) > 0; )
                            LockSupport.parkNanos(left);
                    }
                }
            });
        }
    }

    private void openLoop(ExecutorService pool, List<CompletionRequest> reqs, int total, long end)
            throws InterruptedException {
        SplittableRandom r = new SplittableRandom(o.seed());
        Semaphore slots = o.maxConcurrency() > 0 ? new Semaphore(o.maxConcurrency()) : null;
        double meanGapNs = atMs != null ? 0 : 1e9 / o.rate();
        double offset = 0;
        for (int i = 0; i < total && stopReason == null; i++) {
            if (atMs != null) offset = atMs[i] * 1e6;
            long scheduled = t0 + (long) offset;
            if (scheduled >= end) break;
            long wait;
            while ((wait = scheduled - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
            if (slots != null) slots.acquire(); // later requests keep their scheduled time: waiting here is latency
            int id = i;
            pool.submit(() -> {
                try {
                    record(id, scheduled, reqs.get(id % reqs.size()));
                } finally {
                    if (slots != null) slots.release();
                }
            });
            offset += o.arrivals() == Arrivals.CONSTANT ? meanGapNs : -Math.log(1 - r.nextDouble()) * meanGapNs;
        }
    }

    private int pick(CompletionRequest req) {
        if (targets.size() == 1) return 0;
        if (o.routing() == Routing.AFFINITY && req != null && req.sessionId() != null)
            return Math.floorMod(req.sessionId().hashCode() * 0x9E3779B9, targets.size());
        if (o.routing() != Routing.ROUND_ROBIN) {
            int best = 0;
            for (int i = 1; i < targets.size(); i++) if (inFlight.get(i) < inFlight.get(best)) best = i;
            return best;
        }
        return (int) (rr.getAndIncrement() % targets.size());
    }

    private OpenAiClient.Result send(CompletionRequest req, int t, TraceParent trace) {
        inFlight.incrementAndGet(t);
        try {
            return trace == null ? targets.get(t).send(req) : targets.get(t).send(req, trace);
        } finally {
            inFlight.decrementAndGet(t);
        }
    }

    private OpenAiClient.Result record(long id, long scheduled, CompletionRequest req) {
        int t = pick(req);
        TraceParent trace = spans.on() ? TraceParent.root() : null;
        OpenAiClient.Result res = send(req, t, trace);
        if (trace != null) trace(trace, id, scheduled, targets.get(t).name(), res);
        float[] itl = null;
        long[] c = res.chunkNs();
        if (c != null && c.length > 1) {
            itl = new float[c.length - 1];
            for (int i = 1; i < c.length; i++) itl[i - 1] = (c[i] - c[i - 1]) / 1e6f;
        }
        String backend = res.backend() == null || res.backend().isEmpty()
                ? targets.get(t).name()
                : res.backend();
        int tokens = res.completionTokens();
        String from = RequestRecord.USAGE;
        if (tokens < 0 && res.ok()) {
            tokens = targets.get(t).countTokens(res.text());
            from = tokens < 0 ? RequestRecord.UNKNOWN : RequestRecord.TOKENIZER;
        }
        RequestRecord rec = new RequestRecord(
                o.topology(),
                o.connection(),
                0,
                backend,
                id,
                req.n(),
                res.promptTokens(),
                tokens,
                res.weightsVersion(),
                scheduled - t0,
                res.sentNs() - t0,
                res.firstTokenNs() < 0 ? -1 : res.firstTokenNs() - t0,
                res.endNs() - t0,
                res.connectNs(),
                res.status(),
                res.error(),
                itl,
                req.endpoint(),
                res.chunkNs() != null && res.chunkNs().length > 0,
                from,
                res.serverTimings());
        if (!rec.ok()) failed.incrementAndGet();
        records.add(rec);
        String why = failFast.observe(rec, req.endpoint().path);
        if (why != null) stop(why);
        return res;
    }

    /** One request's spans on the client's track: all of it from its scheduled time, and its three parts. */
    private void trace(TraceParent trace, long id, long scheduled, String target, OpenAiClient.Result res) {
        String tid = trace.traceId();
        spans.span(
                "client",
                "request",
                scheduled,
                res.endNs(),
                tid,
                Map.of(
                        "request_id", id,
                        "target", target,
                        "topology", o.topology().wire(),
                        "connection", o.connection().wire(),
                        "status", res.status()));
        spans.span("client", "wait to send", scheduled, res.sentNs(), tid, Map.of());
        if (res.firstTokenNs() < 0) return;
        spans.span("client", "to first token", res.sentNs(), res.firstTokenNs(), tid, Map.of());
        spans.span("client", "rest", res.firstTokenNs(), res.endNs(), tid, Map.of());
    }

    private void report(int total) {
        try {
            while (true) {
                Thread.sleep(2000);
                double sec = (System.nanoTime() - t0) / 1e9;
                int n = records.size();
                o.progress()
                        .printf(
                                "[%s/%s] %d%s requests, %d failed, %.1f req/s, %.0f s%n",
                                o.topology(),
                                o.connection(),
                                n,
                                total == Integer.MAX_VALUE ? "" : "/" + total,
                                failed.get(),
                                n / sec,
                                sec);
            }
        } catch (InterruptedException done) {
            // run finished
        }
    }
}
