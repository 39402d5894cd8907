package dev.rolloutlab.lb;

import dev.rolloutlab.http1.BodyTooLarge;
import dev.rolloutlab.http1.Head;
import dev.rolloutlab.http1.Http1Connection;
import dev.rolloutlab.http1.HttpIn;
import dev.rolloutlab.util.Secrets;
import dev.rolloutlab.util.SpanLog;
import dev.rolloutlab.util.TraceParent;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * Proxies one client request: the policy's order, failover only before the first response byte (so no request is
 * answered twice), then status, headers and body relayed chunk by chunk so SSE events are not held back.
 */
final class Relay {
    /** Request bodies up to this size are kept for failover; larger ones stream to one backend, without retries. */
    static final int BUFFERED_BODY_LIMIT = 8 << 20;
    /** While waiting for a first byte the relay wakes this often to see whether the backend was marked down. */
    private static final int FIRST_BYTE_SLICE_MS = 100;
    /** How long a request routed by version may wait for a backend on its version that is not mid-update. */
    private static final long VERSION_WAIT_NS = 5_000_000_000L;

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

    private final LbOptions o;
    private final BackendSource source;
    private final LbMetrics metrics;
    final FirstByteTimeout firstByte; // read by LoadBalancer.counters()
    private final BodyMemory memory;
    private final String expectedAuthorization; // built once: checked on every request
    private final SpanLog spans;

    Relay(LbOptions o, BackendSource source, LbMetrics metrics, SpanLog spans) {
        this.o = o;
        this.memory = new BodyMemory(o.maxBodyMemory());
        this.expectedAuthorization = o.apiKey() == null ? null : "Bearer " + o.apiKey();
        this.source = source;
        this.metrics = metrics;
        this.firstByte = new FirstByteTimeout(o.firstByteTimeout(), o.backendTimeout());
        this.spans = spans;
    }

    /** One client request on its way through the balancer. */
    private static final class Exchange {
        final Head head;
        final byte[] body; // null when the body is too large to keep: it streams from {@code bodyIn}
        final HttpIn.Body bodyIn;
        final String forwardHeaders; // header lines after Host and Authorization, ending with the blank line
        final String clientAuthorization; // the client's Authorization line, or ""
        final OutputStream out;
        final boolean keep;
        final byte[] buf;
        final String group; // X-Group-Id under --version-consistent, else null
        final ClientWatch client;
        boolean bodySent; // a streamed body was (partly) sent: no failover possible any more
        boolean worthWaiting; // a backend was skipped or refused for its version or an update: worth waiting for
        final long startNs = System.nanoTime(); // the request head has been read
        long sentNs; // the request went to the backend that answered
        String lastError = "unknown";
        /** The client's sampled trace (passed on unchanged, so a failover keeps it); null: no spans kept. */
        TraceParent trace;
        /** When the last write to the client began: the relay's end as the client can see it (traced only). */
        long lastWriteNs;

        long firstAttemptNs; // when the policy's choice was made and the first backend tried

        Exchange(
                Head head,
                byte[] body,
                HttpIn.Body bodyIn,
                String forwardHeaders,
                String clientAuthorization,
                OutputStream out,
                boolean keep,
                byte[] buf,
                String group,
                ClientWatch client) {
            this.head = head;
            this.body = body;
            this.bodyIn = bodyIn;
            this.forwardHeaders = forwardHeaders;
            this.clientAuthorization = clientAuthorization;
            this.out = out;
            this.keep = keep;
            this.buf = buf;
            this.group = group;
            this.client = client;
        }
    }

    /** Bytes that request bodies in flight hold now. */
    long bodyMemoryHeld() {
        return memory.held();
    }

    /** Proxies the request; returns whether the client connection stays open. */
    boolean proxy(Head h, HttpIn.Body bodyIn, OutputStream out, boolean keep, byte[] relayBuf, ClientWatch client)
            throws IOException {
        if (expectedAuthorization != null && !Secrets.equal(expectedAuthorization, h.header("Authorization"))) {
            boolean drained = drain(bodyIn);
            Responses.error(
                    out,
                    401,
                    "missing or wrong API key (Authorization: Bearer <key>)",
                    "invalid_api_key",
                    keep && drained);
            return keep && drained;
        }
        boolean large = bodyIn.fixed() && bodyIn.length() > BUFFERED_BODY_LIMIT;
        try (BodyMemory.Lease lease = memory.lease()) {
            byte[] body;
            try {
                body = large ? null : bodyIn.readAll(BUFFERED_BODY_LIMIT, lease);
            } catch (BodyTooLarge e) {
                Responses.error(out, 413, "request body too large: " + e.getMessage(), "request_too_large", false);
                return false;
            } catch (BodyMemory.Spent e) {
                Responses.error(out, 503, e.getMessage(), "busy", false);
                return false;
            }
            return proxy(h, body, bodyIn, large, out, keep, relayBuf, client);
        }
    }

    private boolean proxy(
            Head h,
            byte[] body,
            HttpIn.Body bodyIn,
            boolean large,
            OutputStream out,
            boolean keep,
            byte[] relayBuf,
            ClientWatch client)
            throws IOException {
        Versions versions = metrics.versions;
        String group = versions.consistent() ? h.header("X-Group-Id") : null;
        if (group != null && (group.isEmpty() || group.length() > Versions.MAX_GROUP_ID)) {
            Responses.error(
                    out,
                    400,
                    "X-Group-Id must be 1-" + Versions.MAX_GROUP_ID + " characters",
                    "invalid_group_id",
                    keep && !large);
            return keep && !large;
        }
        String affinity = h.header("X-Session-Id");
        if (affinity == null) affinity = h.header("X-Group-Id");
        if (affinity != null && (affinity.isEmpty() || affinity.length() > RouteHint.MAX_AFFINITY)) {
            Responses.error(
                    out,
                    400,
                    "X-Session-Id and X-Group-Id must be 1-" + RouteHint.MAX_AFFINITY + " characters",
                    "invalid_affinity_key",
                    keep && !large);
            return keep && !large;
        }
        RouteHint hint = new RouteHint(affinity, body);
        List<Backend> list = source.current();
        if (list.isEmpty()) {
            Responses.json(out, 502, allFailed("no backends registered"), keep && !large);
            return keep && !large;
        }
        String m = h.method();
        long len = large ? bodyIn.length() : body.length;
        boolean withLength = len > 0 || m.equals("POST") || m.equals("PUT") || m.equals("PATCH");
        StringBuilder clientAuth = new StringBuilder();
        Exchange ex = new Exchange(
                h,
                body,
                bodyIn,
                Hops.forwardHeaders(h, withLength ? len : -1, clientAuth),
                clientAuth.toString(),
                out,
                keep,
                relayBuf,
                group,
                client);
        // the client's trace goes on unchanged among the forwarded headers, so every attempt carries it; the
        // balancer keeps its own spans of it when the client records it (sampled)
        TraceParent trace = spans.on() ? TraceParent.parse(h.header(TraceParent.HEADER)) : null;
        if (trace != null && trace.sampled()) ex.trace = trace;
        try {
            return route(ex, list, hint, group, keep, large, out);
        } finally {
            if (ex.trace != null) {
                long end = ex.lastWriteNs > 0 ? ex.lastWriteNs : System.nanoTime();
                long picked = ex.firstAttemptNs > 0 ? ex.firstAttemptNs : end;
                String id = ex.trace.traceId();
                spans.span("relay", "request", ex.startNs, end, id, Map.of("path", h.target()));
                spans.span(
                        "relay",
                        "pick",
                        ex.startNs,
                        picked,
                        id,
                        Map.of("policy", o.policy().name()));
            }
        }
    }

    /** Tries backends in the policy's order until one answers; the rest of {@link #proxy}. */
    private boolean route(
            Exchange ex,
            List<Backend> list,
            RouteHint hint,
            String group,
            boolean keep,
            boolean large,
            OutputStream out)
            throws IOException {
        Versions versions = metrics.versions;
        int[] order = new int[list.size()];
        o.policy().order(list, hint, order);
        long now = System.nanoTime();
        // available backends first in policy order; then, as a last resort, those that are up but whose breaker is
        // open or who are mid-update. A backend whose health probe failed, or that is draining, gets nothing; with
        // --version-consistent neither does one on another version than the request must be served under.
        // routing by version, a fleet mid-update may briefly have no backend on the right version that is not
        // swapping: the request waits for one (up to VERSION_WAIT_NS) instead of failing
        long waitUntil = now + (versions.consistent() ? VERSION_WAIT_NS : 0);
        for (long pauseNs = 1_000_000; !ex.bodySent; pauseNs = Math.min(pauseNs * 2, 50_000_000)) {
            ex.worthWaiting = false;
            for (int pass = 0; pass < 2 && !ex.bodySent; pass++) {
                for (int idx : order) {
                    Backend b = list.get(idx);
                    boolean avail = b.available(now);
                    if ((pass == 0) != avail || (pass == 1 && (b.draining || !b.health.up || b.health.ejected(now))))
                        continue;
                    long target = versions.target(group, list);
                    if (!versions.eligible(b, target)) {
                        if (b.version < target)
                            ex.worthWaiting = true; // behind: it may catch up; ahead: it never goes back
                        continue;
                    }
                    Boolean keepClient = attempt(ex, b);
                    if (keepClient != null) return keepClient;
                    if (ex.bodySent) break;
                }
            }
            if (!ex.worthWaiting || System.nanoTime() + pauseNs > waitUntil) break;
            LockSupport.parkNanos(pauseNs);
            now = System.nanoTime();
            if (group == null) o.policy().order(list, hint, order);
        }
        metrics.allFailed.incrementAndGet();
        boolean k = keep && !large; // a large body may be partly unread: the connection cannot carry another request
        Long pin = group == null ? null : versions.pin(group);
        if (pin != null && !ex.bodySent) {
            Responses.json(out, 409, Versions.groupGone(group, pin, ex.lastError), k);
            return k;
        }
        Responses.json(out, 502, allFailed(ex.lastError), k);
        return k;
    }

    private static Map<String, Object> allFailed(String detail) {
        return Responses.error(
                "all backends failed: " + detail,
                "service_unavailable",
                "all_backends_failed",
                Map.of("detail", detail));
    }

    /** Reads and drops a small request body so the connection can carry the next request; false if it is too large. */
    private static boolean drain(HttpIn.Body bodyIn) {
        try {
            bodyIn.readAll(BUFFERED_BODY_LIMIT);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Tries one backend. Returns whether the client connection stays open once the response was relayed, or null when
     * this backend failed before its first response byte (then the caller fails over).
     */
    private Boolean attempt(Exchange ex, Backend b) throws IOException {
        b.stats.requests.incrementAndGet();
        b.inFlight.incrementAndGet();
        long t0 = System.nanoTime(), connectedNs = 0, firstByteNs = 0;
        if (ex.firstAttemptNs == 0) ex.firstAttemptNs = t0;
        String outcome = "failed before a response";
        try {
            Http1Connection c = null;
            Head rh;
            try {
                c = b.pool.acquire();
                connectedNs = System.nanoTime();
                rh = exchange(ex, b, c, t0);
            } catch (IOException e) {
                if (ex.client.left()) { // the client hung up: closing our side tells the backend to drop the generation
                    if (c != null) c.close();
                    metrics.clientsGone.incrementAndGet();
                    throw new EOFException("the client closed the connection before the answer");
                }
                boolean stale = c != null && c.reused() && ex.body != null && !(e instanceof SocketTimeoutException);
                if (c != null) c.close();
                c = null;
                rh = null;
                if (stale) { // the backend closed an idle kept-alive connection as we wrote: it never saw the request
                    try {
                        c = b.pool.open();
                        rh = exchange(ex, b, c, t0);
                    } catch (IOException again) {
                        if (c != null) c.close();
                        e = again;
                        c = null;
                    }
                }
                if (c == null) {
                    if (e
                            instanceof
                            SocketTimeoutException) { // slow, not refused: this backend's outlier count, or the limit
                        if (b.health.up) firstByte.timedOut(b);
                        b.health.firstByteTimedOut(
                                o.breakerFailures(), o.breakerCooldown().toNanos());
                    } else {
                        b.health.failure(
                                o.breakerFailures(), o.breakerCooldown().toNanos());
                    }
                    b.stats.errors.incrementAndGet();
                    b.stats.retries.incrementAndGet();
                    ex.lastError = b.stats.lastError = b.label + ": "
                            + (e instanceof SocketTimeoutException
                                    ? "no response within the first-byte timeout of " + firstByte.describe()
                                            + (b.health.up ? "" : " (marked down by its health check)")
                                    : e.toString());
                    return null;
                }
            }
            firstByteNs = System.nanoTime();
            firstByte.observe(firstByteNs - t0);
            b.stats.firstByte.observe(firstByteNs - t0);
            outcome = "status " + rh.status();
            String retryAfter = rh.header("Retry-After");
            if (rh.status() == 503 && retryAfter != null && !ex.bodySent) {
                // mid-update: this backend gets no new requests until a probe sees it serving again
                b.health.markUpdating(parseSeconds(retryAfter));
                ex.worthWaiting = true;
                b.stats.retries.incrementAndGet();
                ex.lastError = b.label + ": 503 Retry-After " + retryAfter;
                c.close();
                return null;
            }
            String wrongVersion = metrics.versions.check(b, rh, ex.group);
            if (wrongVersion != null
                    && !ex.bodySent) { // nothing relayed yet: drop this answer, try a backend on the right version
                ex.lastError = b.label + ": " + wrongVersion;
                ex.worthWaiting = true;
                c.close();
                return null;
            }
            boolean keepClient = relay(ex, b, c, rh);
            b.health.success();
            return keepClient;
        } finally {
            b.inFlight.decrementAndGet();
            long end = System.nanoTime();
            b.stats.duration.observe(end - t0);
            if (ex.trace != null) traceAttempt(ex, b, t0, connectedNs, firstByteNs, end, outcome);
        }
    }

    /**
     * One attempt's spans: the attempt until its answer's head (or failure), getting a connection within it, and
     * relaying the answer after it.
     */
    private void traceAttempt(
            Exchange ex, Backend b, long t0, long connectedNs, long firstByteNs, long end, String outcome) {
        String id = ex.trace.traceId();
        spans.span(
                "relay",
                "attempt",
                t0,
                firstByteNs > 0 ? firstByteNs : end,
                id,
                Map.of("backend", b.label, "outcome", outcome));
        if (connectedNs > 0) spans.span("relay", "connect", t0, connectedNs, id, Map.of("backend", b.label));
        if (firstByteNs > 0)
            spans.span(
                    "relay",
                    "relay",
                    firstByteNs,
                    Math.max(firstByteNs, ex.lastWriteNs > 0 ? ex.lastWriteNs : end),
                    id,
                    Map.of("backend", b.label));
    }

    /**
     * Sends the request to {@code b} on {@code c} and waits for the response head, giving up at the first-byte
     * deadline.
     */
    private Head exchange(Exchange ex, Backend b, Http1Connection c, long t0) throws IOException {
        Head h = ex.head;
        String auth = b.authorizationLine != null ? b.authorizationLine : ex.clientAuthorization;
        byte[] head = (h.method() + " " + h.target() + " HTTP/1.1\r\nHost: " + b.hostHeader + "\r\n" + auth
                        + ex.forwardHeaders)
                .getBytes(StandardCharsets.ISO_8859_1);
        if (ex.body != null) {
            c.send(head, ex.body, ex.body.length);
            ex.sentNs = System.nanoTime();
        } else {
            ex.bodySent = true;
            c.send(head, null, 0);
            try {
                ex.bodyIn.transferTo(c.out());
                ex.sentNs = System.nanoTime();
            } catch (IOException writeFailed) {
                // the backend may have refused the body early (413) and closed: relay its answer, not a 502
                try {
                    return c.readResponse();
                } catch (IOException noAnswer) {
                    throw writeFailed;
                }
            }
        }
        long deadline = t0 + firstByte.nanos();
        return c.readResponse(
                FIRST_BYTE_SLICE_MS,
                () -> !b.health.up || System.nanoTime() >= deadline || (ex.body != null && ex.client.gone()));
    }

    /**
     * Copies status, headers and body to the client; after this starts nothing is retried. A body without a known
     * length goes out chunked, one chunk and one flush per read from the backend, so SSE events are not held back. Any
     * failure aborts both connections: the backend sees its connection close and drops the generation.
     */
    private boolean relay(Exchange ex, Backend b, Http1Connection c, Head rh) throws IOException {
        try {
            HttpIn.Body in = c.in().responseBody(rh, ex.head.method());
            boolean http10 = ex.head.http10();
            // a streamed request body the backend did not read to its end leaves the client stream out of step
            boolean keep = ex.keep && (in.fixed() || !http10) && (ex.body != null || ex.bodyIn.complete());
            StringBuilder sb = new StringBuilder(512)
                    .append("HTTP/1.1 ")
                    .append(rh.status())
                    .append(' ')
                    .append(rh.reason().isEmpty() ? Responses.reason(rh.status()) : rh.reason())
                    .append("\r\n");
            boolean connectionNames = rh.header("Connection") != null;
            for (int i = 0; i < rh.size(); i++) {
                String name = rh.name(i);
                if (Hops.dropped(rh, name, connectionNames)) continue;
                sb.append(name).append(": ").append(rh.value(i)).append("\r\n");
            }
            sb.append("X-OpenAI-LB-Backend: ").append(b.label).append("\r\n");
            // the balancer's own share: reading the request, picking, connecting and sending (failed attempts included)
            long us = ex.sentNs > 0 ? (ex.sentNs - ex.startNs) / 1000 : -1;
            if (us >= 0)
                sb.append("Server-Timing: lb;dur=")
                        .append(us / 1000)
                        .append('.')
                        .append((char) ('0' + us / 100 % 10))
                        .append((char) ('0' + us / 10 % 10))
                        .append((char) ('0' + us % 10))
                        .append("\r\n");
            if (in.fixed()) sb.append("Content-Length: ").append(in.length()).append("\r\n");
            else if (!http10) sb.append("Transfer-Encoding: chunked\r\n");
            if (!keep) sb.append("Connection: close\r\n");
            else if (http10) sb.append("Connection: keep-alive\r\n");
            OutputStream out = ex.out;
            out.write(sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            byte[] buf = ex.buf;
            boolean chunkedOut = !in.fixed() && !http10;
            int n;
            while ((n = in.read(buf, 0, buf.length)) > 0) {
                if (ex.trace != null) ex.lastWriteNs = System.nanoTime();
                if (chunkedOut) {
                    out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.write(buf, 0, n);
                    out.write(CRLF);
                    out.flush();
                } else {
                    out.write(buf, 0, n);
                    if (!in.fixed()) out.flush();
                }
            }
            if (chunkedOut) out.write(LAST_CHUNK);
            out.flush();
            if (in.complete() && !in.untilClose() && rh.keepAlive()) b.pool.release(c);
            else c.close();
            return keep;
        } catch (IOException e) {
            c.close();
            b.stats.errors.incrementAndGet();
            throw e;
        }
    }

    private static long parseSeconds(String s) {
        try {
            return (long) (Math.min(3600, Math.max(0, Double.parseDouble(s.trim()))) * 1e9);
        } catch (NumberFormatException e) {
            return 1_000_000_000L;
        }
    }
}
