package dev.rolloutlab.server;

import dev.rolloutlab.engine.Timings;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where a request's time went inside serve, as the W3C {@code Server-Timing} header ({@code queue;dur=...,
 * prefill;dur=..., decode;dur=..., serialize;dur=..., total;dur=...}, milliseconds; {@code total} runs from the
 * handler's first byte of work to the answer's last, so total minus the engine's parts is serve's own overhead:
 * parsing, tokenising, serialising), and the prompt tokens the prefix cache served ({@code cached_tokens;desc=N}),
 * which prefill did not compute. A stream cannot add headers at its end, so its last data chunk carries the same
 * figures as {@code "server_timing": {"queue_ms", "prefill_ms", "decode_ms", "serialize_ms", "total_ms",
 * "cached_tokens"}}.
 */
final class ServerTiming {
    private ServerTiming() {}

    static String header(Timings t, long serializeNs, long totalNs) {
        StringBuilder sb = new StringBuilder(112);
        add(sb, "queue", t.queueNs());
        add(sb, "prefill", t.prefillNs());
        add(sb, "decode", t.decodeNs());
        add(sb, "serialize", serializeNs);
        add(sb, "total", totalNs);
        if (t.cachedTokens() >= 0) sb.append(", cached_tokens;desc=").append(t.cachedTokens());
        return sb.toString();
    }

    private static void add(StringBuilder sb, String name, long ns) {
        if (ns < 0) return;
        if (!sb.isEmpty()) sb.append(", ");
        sb.append(name).append(";dur=").append(String.format(Locale.ROOT, "%.3f", ns / 1e6));
    }

    static Map<String, Double> json(Timings t, long serializeNs, long totalNs) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (t.cachedTokens() >= 0) m.put("cached_tokens", (double) t.cachedTokens());
        if (t.queueNs() >= 0) m.put("queue_ms", t.queueNs() / 1e6);
        if (t.prefillNs() >= 0) m.put("prefill_ms", t.prefillNs() / 1e6);
        if (t.decodeNs() >= 0) m.put("decode_ms", t.decodeNs() / 1e6);
        m.put("serialize_ms", serializeNs / 1e6);
        m.put("total_ms", totalNs / 1e6);
        return m;
    }
}
