package dev.rolloutlab.bench;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.results.RequestRecord;
import dev.rolloutlab.util.SpanLog;
import dev.rolloutlab.util.TraceParent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends a run's requests and keeps their records: picks each request's target by the run's routing, times it from the
 * run's origin, and stops the run when its first requests all fail alike. Every schedule's threads share one.
 */
final class Recorder {
    private final List<Target> targets;
    private final LoadGenerator.Options o;
    private volatile SpanLog spans = SpanLog.OFF;
    private final ConcurrentLinkedQueue<RequestRecord> records = new ConcurrentLinkedQueue<>();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicLong turn = new AtomicLong();
    private final AtomicIntegerArray inFlight;
    private final FailFast failFast = new FailFast();
    private volatile String stopReason;
    private long originNs;

    Recorder(List<Target> targets, LoadGenerator.Options options) {
        this.targets = targets;
        this.o = options;
        this.inFlight = new AtomicIntegerArray(targets.size());
    }

    void traced(SpanLog log) {
        spans = log;
    }

    /** Sends a request that is not measured (a warm-up): no record, no trace. */
    void sendUnrecorded(CompletionRequest req) {
        send(req, pick(null), null);
    }

    /** Marks now as the origin of every record's times, and returns it. */
    long start() {
        originNs = System.nanoTime();
        return originNs;
    }

    long originNs() {
        return originNs;
    }

    /** Asks the schedules to stop sending; the first reason given is kept. */
    void stop(String reason) {
        if (stopReason == null) stopReason = reason;
    }

    /** Why the run stops early, or null while it runs on. */
    String stopReason() {
        return stopReason;
    }

    int recorded() {
        return records.size();
    }

    int failed() {
        return failed.get();
    }

    /** The records so far, by request id. */
    List<RequestRecord> records() {
        List<RequestRecord> list = new ArrayList<>(records);
        list.sort(Comparator.comparingLong(RequestRecord::requestId));
        return list;
    }

    /** Sends request {@code id}, scheduled at {@code scheduledNs}, and records how it went. */
    OpenAiClient.Result record(long id, long scheduledNs, CompletionRequest req) {
        int t = pick(req);
        TraceParent trace = spans.on() ? TraceParent.root() : null;
        OpenAiClient.Result res = send(req, t, trace);
        if (trace != null) trace(trace, id, scheduledNs, targets.get(t).name(), res);
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
                scheduledNs - originNs,
                res.sentNs() - originNs,
                res.firstTokenNs() < 0 ? -1 : res.firstTokenNs() - originNs,
                res.endNs() - originNs,
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

    private int pick(CompletionRequest req) {
        if (targets.size() == 1) return 0;
        if (o.routing() == LoadGenerator.Routing.AFFINITY && req != null && req.sessionId() != null)
            return Math.floorMod(req.sessionId().hashCode() * 0x9E3779B9, targets.size());
        if (o.routing() != LoadGenerator.Routing.ROUND_ROBIN) {
            int best = 0;
            for (int i = 1; i < targets.size(); i++) if (inFlight.get(i) < inFlight.get(best)) best = i;
            return best;
        }
        return (int) (turn.getAndIncrement() % targets.size());
    }

    private OpenAiClient.Result send(CompletionRequest req, int t, TraceParent trace) {
        inFlight.incrementAndGet(t);
        try {
            return trace == null ? targets.get(t).send(req) : targets.get(t).send(req, trace);
        } finally {
            inFlight.decrementAndGet(t);
        }
    }

    /** One request's spans on the client's track: all of it from its scheduled time, and its three parts. */
    private void trace(TraceParent trace, long id, long scheduledNs, String target, OpenAiClient.Result res) {
        String tid = trace.traceId();
        spans.span(
                "client",
                "request",
                scheduledNs,
                res.endNs(),
                tid,
                Map.of(
                        "request_id", id,
                        "target", target,
                        "topology", o.topology().wire(),
                        "connection", o.connection().wire(),
                        "status", res.status()));
        spans.span("client", "wait to send", scheduledNs, res.sentNs(), tid, Map.of());
        if (res.firstTokenNs() < 0) return;
        spans.span("client", "to first token", res.sentNs(), res.firstTokenNs(), tid, Map.of());
        spans.span("client", "rest", res.firstTokenNs(), res.endNs(), tid, Map.of());
    }
}
