package dev.rolloutlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A run's one timeline: the spans every process kept under {@code trace/} (the client, the balancer, serve, the
 * trainer) joined into {@code trace.json} in the Chrome trace-event format, which Perfetto's UI opens. Each process is
 * one process in the trace, each of its tracks (a port, an engine, the relay, the client) one or more threads: spans
 * that overlap without nesting get lanes of their own, and a span nests only under one of the same request (W3C trace
 * id), so a request's parts read as its children.
 */
public final class Timeline {
    /** The file a run's timeline is written to, beside REPORT.md. */
    public static final String FILE = "trace.json";
    /** A child may end this much (µs) after its parent and still nest: spans placed from durations round apart. */
    private static final double SLACK_US = 5;

    private Timeline() {}

    /** One span as read back from a span file. */
    record Span(
            String process,
            String track,
            String name,
            double ts,
            double dur,
            String traceId,
            Map<String, Object> args) {
        double end() {
            return ts + dur;
        }
    }

    /** Whether {@code run} has span files to join. */
    public static boolean has(Path run) {
        return !files(run).isEmpty();
    }

    /** Joins the run's span files into {@code trace.json}; returns its path, or null when the run kept no spans. */
    public static Path write(Path run) {
        List<Span> spans = read(run);
        if (spans.isEmpty()) return null;
        Path out = run.resolve(FILE);
        Json.writeText(out, Json.write(events(spans)));
        return out;
    }

    static List<Span> read(Path run) {
        List<Span> spans = new ArrayList<>();
        for (Path f : files(run)) {
            try (Stream<String> lines = Files.lines(f)) {
                lines.filter(l -> !l.isBlank()).forEach(l -> {
                    JsonNode n;
                    try {
                        n = Json.parse(l);
                    } catch (com.fasterxml.jackson.core.JsonProcessingException cut) {
                        return; // a process killed mid-write leaves half a line: the rest of its spans still count
                    }
                    Map<String, Object> args = new LinkedHashMap<>();
                    n.path("args").properties().forEach(e -> args.put(e.getKey(), value(e.getValue())));
                    spans.add(new Span(
                            n.path("process").asText(),
                            n.path("track").asText(),
                            n.path("name").asText(),
                            n.path("ts_us").asDouble(),
                            n.path("dur_us").asDouble(),
                            n.hasNonNull("trace_id") ? n.path("trace_id").asText() : null,
                            args));
                });
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read spans from " + f + ": " + e.getMessage(), e);
            }
        }
        return spans;
    }

    private static Object value(JsonNode v) {
        return v.isNumber() ? v.numberValue() : v.isBoolean() ? v.booleanValue() : v.asText();
    }

    private static List<Path> files(Path run) {
        Path dir = run.resolve("trace");
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".jsonl"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The trace-event document: metadata naming each process and thread, then one complete ({@code "ph": "X"}) event
     * per span, in microseconds from the earliest span.
     */
    static Map<String, Object> events(List<Span> spans) {
        double origin = spans.stream().mapToDouble(Span::ts).min().orElse(0);
        List<Map<String, Object>> events = new ArrayList<>();
        Map<String, List<Span>> byProcess =
                new TreeMap<>(Comparator.comparingInt(Timeline::processOrder).thenComparing(Comparator.naturalOrder()));
        for (Span s : spans)
            byProcess.computeIfAbsent(s.process(), k -> new ArrayList<>()).add(s);
        int pid = 0;
        for (var p : byProcess.entrySet()) {
            pid++;
            events.add(meta("process_name", pid, 0, p.getKey()));
            events.add(meta("process_sort_index", pid, 0, pid));
            Map<String, List<Span>> byTrack = new TreeMap<>();
            for (Span s : p.getValue())
                byTrack.computeIfAbsent(s.track(), k -> new ArrayList<>()).add(s);
            int tid = 0;
            for (var t : byTrack.entrySet()) {
                List<List<Span>> lanes = lanes(t.getValue());
                for (int i = 0; i < lanes.size(); i++) {
                    tid++;
                    events.add(meta("thread_name", pid, tid, lanes.size() == 1 ? t.getKey() : t.getKey() + " #" + i));
                    events.add(meta("thread_sort_index", pid, tid, tid));
                    for (Span s : lanes.get(i)) events.add(event(s, pid, tid, origin));
                }
            }
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("traceEvents", events);
        doc.put("displayTimeUnit", "ms");
        return doc;
    }

    /** The client first, then the balancer, then serve, then anything else: the order a request travels. */
    private static int processOrder(String process) {
        return switch (process) {
            case "client" -> 0;
            case "lb" -> 1;
            case "serve" -> 2;
            default -> 3;
        };
    }

    /**
     * Places spans on as few lanes as keep each lane a proper nesting: a span goes on the first lane where, once the
     * spans ended before it are closed, it either starts afresh or fits inside the open span of its own request.
     */
    static List<List<Span>> lanes(List<Span> spans) {
        List<Span> sorted = new ArrayList<>(spans);
        sorted.sort(Comparator.comparingDouble(Span::ts)
                .thenComparing(Comparator.comparingDouble(Span::dur).reversed()));
        List<List<Span>> lanes = new ArrayList<>();
        List<List<Span>> open = new ArrayList<>();
        for (Span s : sorted) {
            int chosen = -1;
            for (int i = 0; i < lanes.size() && chosen < 0; i++) {
                List<Span> stack = open.get(i);
                while (!stack.isEmpty() && stack.getLast().end() <= s.ts()) stack.removeLast();
                if (stack.isEmpty()
                        || Objects.equals(stack.getLast().traceId(), s.traceId())
                                && s.traceId() != null
                                && s.end() <= stack.getLast().end() + SLACK_US) chosen = i;
            }
            if (chosen < 0) {
                lanes.add(new ArrayList<>());
                open.add(new ArrayList<>());
                chosen = lanes.size() - 1;
            }
            Span placed = s;
            List<Span> stack = open.get(chosen);
            if (!stack.isEmpty() && s.end() > stack.getLast().end()) // within the slack: end with the parent
            placed = new Span(
                    s.process(), s.track(), s.name(), s.ts(), stack.getLast().end() - s.ts(), s.traceId(), s.args());
            lanes.get(chosen).add(placed);
            stack.add(placed);
        }
        return lanes;
    }

    private static Map<String, Object> event(Span s, int pid, int tid, double origin) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", s.name());
        e.put("cat", s.track());
        e.put("ph", "X");
        e.put("ts", round(s.ts() - origin));
        e.put("dur", round(s.dur()));
        e.put("pid", pid);
        e.put("tid", tid);
        Map<String, Object> args = new LinkedHashMap<>(s.args());
        if (s.traceId() != null) args.put("trace_id", s.traceId());
        e.put("args", args);
        return e;
    }

    private static Map<String, Object> meta(String name, int pid, int tid, Object value) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("name", name);
        e.put("ph", "M");
        e.put("pid", pid);
        e.put("tid", tid);
        e.put("args", Map.of(name.endsWith("sort_index") ? "sort_index" : "name", value));
        return e;
    }

    private static double round(double us) {
        return Math.round(us * 10) / 10.0;
    }
}
