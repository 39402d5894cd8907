package dev.rolloutlab.util;

import java.util.concurrent.ThreadLocalRandom;

/**
 * A W3C trace context as the {@code traceparent} header carries it ({@code 00-<trace-id>-<parent-id>-01}): the trace a
 * request belongs to and the span that sent it. The client starts one per request, the balancer passes it on as its own
 * child, and every process's spans name it, so one request can be followed across processes.
 */
public record TraceParent(String traceId, String parentId) {
    public static final String HEADER = "traceparent";

    /** A new trace, with a random trace id and span id. */
    public static TraceParent root() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return new TraceParent(hex(r.nextLong()) + hex(r.nextLong()), hex(r.nextLong()));
    }

    /** The same trace, sent on by a new span (a random span id). */
    public TraceParent child() {
        return new TraceParent(traceId, hex(ThreadLocalRandom.current().nextLong()));
    }

    /** The header's value. */
    public String header() {
        return "00-" + traceId + "-" + parentId + "-01";
    }

    /**
     * The context a {@code traceparent} header value carries, or null when it is absent or malformed: W3C asks a
     * receiver to ignore an invalid one rather than fail the request.
     */
    public static TraceParent parse(String value) {
        if (value == null) return null;
        String v = value.trim();
        if (v.length() < 55 || v.charAt(2) != '-' || v.charAt(35) != '-' || v.charAt(52) != '-') return null;
        String trace = v.substring(3, 35), parent = v.substring(36, 52);
        if (!isHex(v.substring(0, 2)) || !isHex(trace) || !isHex(parent) || v.startsWith("ff")) return null;
        if (trace.chars().allMatch(c -> c == '0') || parent.chars().allMatch(c -> c == '0')) return null;
        return new TraceParent(trace, parent);
    }

    private static boolean isHex(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) return false;
        }
        return true;
    }

    private static String hex(long v) {
        String h = Long.toHexString(v == 0 ? 1 : v);
        return "0".repeat(16 - h.length()) + h;
    }
}
