package dev.rolloutlab.openai;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What the servers on a request's path said about their own time, in milliseconds (NaN: not said): serve's queue,
 * prefill, decode, serialisation and total time in its handler (its {@code Server-Timing} header, or a stream's final
 * {@code server_timing} chunk), the balancer's own share ({@code lb}: picking a backend, connecting and sending the
 * request), and the prompt tokens serve's prefix cache served ({@code cached_tokens}, a count).
 */
public record ServerTimings(
        double queueMs,
        double prefillMs,
        double decodeMs,
        double serializeMs,
        double totalMs,
        double lbMs,
        double cachedTokens) {
    public static final ServerTimings NONE =
            new ServerTimings(Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);

    /** Timings without a cache count. */
    public ServerTimings(
            double queueMs, double prefillMs, double decodeMs, double serializeMs, double totalMs, double lbMs) {
        this(queueMs, prefillMs, decodeMs, serializeMs, totalMs, lbMs, Double.NaN);
    }

    /**
     * Reads {@code name;dur=ms} entries and {@code cached_tokens;desc=N} (comma-separated, from one or more headers);
     * unknown names are ignored.
     */
    public static ServerTimings parse(String header) {
        if (header == null || header.isEmpty()) return NONE;
        double q = Double.NaN, p = Double.NaN, d = Double.NaN, s = Double.NaN, total = Double.NaN, lb = Double.NaN;
        double cached = Double.NaN;
        for (String entry : header.split(",")) {
            String[] parts = entry.trim().split(";");
            double dur = Double.NaN, desc = Double.NaN;
            for (int i = 1; i < parts.length; i++) {
                String kv = parts[i].trim();
                if (kv.startsWith("dur=")) dur = number(kv.substring(4));
                else if (kv.startsWith("desc=")) desc = number(kv.substring(5));
            }
            switch (parts[0].trim()) {
                case "queue" -> q = dur;
                case "prefill" -> p = dur;
                case "decode" -> d = dur;
                case "serialize" -> s = dur;
                case "total" -> total = dur;
                case "lb" -> lb = dur;
                case "cached_tokens" -> cached = desc;
                default -> {}
            }
        }
        return new ServerTimings(q, p, d, s, total, lb, cached);
    }

    private static double number(String s) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /**
     * The engine's own time for the request, as the engine measured it: queue + prefill + decode (an unreported queue
     * or prefill counts 0); NaN when the engine said nothing.
     */
    public double engineMs() {
        if (Double.isNaN(decodeMs)) return Double.NaN;
        return (Double.isNaN(queueMs) ? 0 : queueMs) + (Double.isNaN(prefillMs) ? 0 : prefillMs) + decodeMs;
    }

    /** Each figure from this, or from {@code other} where this one is not known. */
    public ServerTimings or(ServerTimings other) {
        return new ServerTimings(
                pick(queueMs, other.queueMs),
                pick(prefillMs, other.prefillMs),
                pick(decodeMs, other.decodeMs),
                pick(serializeMs, other.serializeMs),
                pick(totalMs, other.totalMs),
                pick(lbMs, other.lbMs),
                pick(cachedTokens, other.cachedTokens));
    }

    private static double pick(double a, double b) {
        return Double.isNaN(a) ? b : a;
    }

    /** These timings with serve's own taken from a stream's final {@code server_timing} object. */
    public ServerTimings withStream(JsonNode n) {
        if (n == null || !n.isObject()) return this;
        return new ServerTimings(
                n.path("queue_ms").asDouble(queueMs),
                n.path("prefill_ms").asDouble(prefillMs),
                n.path("decode_ms").asDouble(decodeMs),
                n.path("serialize_ms").asDouble(serializeMs),
                n.path("total_ms").asDouble(totalMs),
                lbMs,
                n.path("cached_tokens").asDouble(cachedTokens));
    }
}
