package dev.rolloutlab.util;

import java.util.concurrent.ThreadLocalRandom;

/**
 * A W3C trace context as the {@code traceparent} header carries it ({@code 00-<trace-id>-<parent-id>-<flags>}): the
 * trace a request belongs to, the span that sent it, and whether the sender records it ({@code sampled}). The client
 * starts one per measured request and the balancer passes it on unchanged; serve and the balancer keep spans only of
 * sampled requests, so a run's warm-ups stay off its timeline.
 */
public record TraceParent(String traceId, String parentId, boolean sampled) {
    public static final String HEADER = "traceparent";

    /** A new sampled trace, with a random trace id and span id. */
    public static TraceParent root() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return new TraceParent(hex(r.nextLong()) + hex(r.nextLong()), hex(r.nextLong()), true);
    }

    /** The header's value. */
    public String header() {
        return "00-" + traceId + "-" + parentId + (sampled ? "-01" : "-00");
    }

    /**
     * The context a {@code traceparent} header value carries, or null when it is absent or malformed: W3C asks a
     * receiver to ignore an invalid one rather than fail the request.
     */
    public static TraceParent parse(String value) {
        if (value == null) return null;
        String v = value.trim();
        if (v.length() < 55 || v.charAt(2) != '-' || v.charAt(35) != '-' || v.charAt(52) != '-') return null;
        String trace = v.substring(3, 35), parent = v.substring(36, 52), flags = v.substring(53, 55);
        if (!isHex(v.substring(0, 2)) || !isHex(trace) || !isHex(parent) || !isHex(flags) || v.startsWith("ff"))
            return null;
        if (trace.chars().allMatch(c -> c == '0') || parent.chars().allMatch(c -> c == '0')) return null;
        return new TraceParent(trace, parent, (Integer.parseInt(flags, 16) & 1) == 1);
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
