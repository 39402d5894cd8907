package dev.rolloutlab.util;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One process's spans, appended as JSON lines ({@link Span}) for {@code report} to join into a run's timeline. Times
 * are {@link System#nanoTime()} in microseconds: on Linux every process on a host reads the same monotonic clock, so
 * the spans of the client, the balancer and serve line up without exchanging clocks. Buffered, and flushed every 200
 * ms, at close and at exit, so the hot path pays a formatted line, not a write.
 */
public final class SpanLog implements AutoCloseable {
    /**
     * One line of a span file, as {@code report} reads it back: its process and track (a port, an engine, a client),
     * name, start and length in microseconds, the W3C trace id it belongs to (null: none), and what else it says.
     */
    public record Span(
            String process,
            String track,
            String name,
            double tsUs,
            double durUs,
            String traceId,
            Map<String, Object> args) {}

    /** Spans not kept: what a process logs when nobody asked for a trace. */
    public static final SpanLog OFF = new SpanLog(null, null);

    private final String process;
    private final BufferedWriter out;
    private final ScheduledExecutorService flusher;
    private volatile boolean closed;

    private SpanLog(String process, BufferedWriter out) {
        this.process = process;
        this.out = out;
        if (out == null) {
            flusher = null;
            return;
        }
        flusher = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("span-log").daemon(true).factory());
        flusher.scheduleWithFixedDelay(this::flush, 200, 200, TimeUnit.MILLISECONDS);
        Runtime.getRuntime().addShutdownHook(new Thread(this::close, "span-log-exit"));
    }

    /** Appends {@code process}'s spans to {@code file} (created with its folder; an existing file is extended). */
    public static SpanLog open(Path file, String process) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            if (dir != null) Files.createDirectories(dir);
            return new SpanLog(
                    process,
                    Files.newBufferedWriter(
                            file,
                            StandardCharsets.UTF_8,
                            java.nio.file.StandardOpenOption.CREATE,
                            java.nio.file.StandardOpenOption.APPEND));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write spans to " + file + ": " + e.getMessage(), e);
        }
    }

    /** Whether spans are kept; a caller builds a span's arguments only then. */
    public boolean on() {
        return out != null;
    }

    /**
     * Keeps one span from {@code startNs} to {@code endNs} ({@link System#nanoTime()}). The line is formatted here, not
     * by the JSON mapper: serve writes several per request, and the mapper's reflection would cost more than the rest.
     */
    public void span(String track, String name, long startNs, long endNs, String traceId, Map<String, Object> args) {
        if (out == null || closed) return;
        StringBuilder sb = new StringBuilder(160);
        sb.append("{\"process\":");
        quote(sb, process).append(",\"track\":");
        quote(sb, track).append(",\"name\":");
        quote(sb, name)
                .append(",\"ts_us\":")
                .append(startNs / 1000)
                .append('.')
                .append(startNs % 1000 / 100)
                .append(",\"dur_us\":")
                .append(Math.max(0, endNs - startNs) / 1e3);
        if (traceId != null) quote(sb.append(",\"trace_id\":"), traceId);
        if (!args.isEmpty()) {
            sb.append(",\"args\":{");
            boolean first = true;
            for (var e : args.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                quote(sb, e.getKey()).append(':');
                Object v = e.getValue();
                if (v instanceof Double d && !Double.isFinite(d)) sb.append("null");
                else if (v instanceof Number || v instanceof Boolean) sb.append(v);
                else quote(sb, String.valueOf(v));
            }
            sb.append('}');
        }
        String line = sb.append('}').toString();
        synchronized (out) {
            try {
                out.write(line);
                out.write('\n');
            } catch (IOException e) {
                closed = true; // a full disk ends the trace, never the run
            }
        }
    }

    /** {@code s} as a JSON string: quotes, backslashes and control characters escaped. */
    private static StringBuilder quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.append('"');
    }

    private void flush() {
        if (out == null) return;
        synchronized (out) {
            try {
                out.flush();
            } catch (IOException ignored) {
                // the next flush or close says nothing either: a trace is best effort
            }
        }
    }

    @Override
    public void close() {
        if (out == null) return;
        flusher.shutdownNow();
        synchronized (out) {
            try {
                out.close();
            } catch (IOException ignored) {
                // best effort, as every write
            }
            closed = true;
        }
    }
}
