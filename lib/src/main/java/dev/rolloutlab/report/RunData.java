package dev.rolloutlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.ServerMetric;
import dev.rolloutlab.results.Summary;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.io.csv.CsvReadOptions;
import tech.tablesaw.selection.Selection;

/**
 * A results folder as Tablesaw tables: {@code summary}, {@code requests}, {@code freshness} and {@code staleness} (one
 * row per freshness sample). Notebooks and {@link Report} read results only through this class.
 */
public final class RunData {
    private final Path dir;
    private final Table summary;
    private final Table requests;
    private final boolean engineTimings;
    private final Table freshness;
    private final Table gaps;
    private final Table sweep;
    private final Table cpu;
    private final Table staleness;
    private final Table metrics;
    private final JsonNode run;

    private RunData(Path dir) {
        this.dir = dir;
        if (!Files.exists(dir.resolve("summary.csv"))) {
            throw new IllegalArgumentException(
                    dir + " has no summary.csv: not a results folder (run compare or bench first)");
        }
        JsonNode r = null;
        try {
            if (Files.exists(dir.resolve("run.json"))) r = Json.parse(Files.readString(dir.resolve("run.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        run = r;
        summary = csv(dir.resolve("summary.csv"), "summary");
        freshness = Files.exists(dir.resolve("freshness.csv")) ? csv(dir.resolve("freshness.csv"), "freshness") : null;
        gaps = Files.exists(dir.resolve("logprob_gap.csv")) && lines(dir.resolve("logprob_gap.csv")) > 1
                ? csv(dir.resolve("logprob_gap.csv"), "logprob_gap")
                : null;
        sweep = Files.exists(dir.resolve("sweep.csv")) && lines(dir.resolve("sweep.csv")) > 1
                ? csv(dir.resolve("sweep.csv"), "sweep")
                : null;
        metrics = Files.exists(dir.resolve(ServerMetric.FILE)) && lines(dir.resolve(ServerMetric.FILE)) > 1
                ? csv(dir.resolve(ServerMetric.FILE), "metrics")
                : null;
        cpu = Files.exists(dir.resolve("cpu.csv")) && lines(dir.resolve("cpu.csv")) > 1
                ? csv(dir.resolve("cpu.csv"), "cpu")
                : null;
        Table all = jsonl(
                dir.resolve("requests.jsonl"),
                "requests",
                List.of("topology", "connection", "backend", "endpoint", "tokens_from", "error"),
                List.of(
                        "round",
                        "request_id",
                        "prompt_tokens",
                        "completion_tokens",
                        "weights_version",
                        "scheduled_ns",
                        "sent_ns",
                        "first_token_ns",
                        "end_ns",
                        "connect_ns",
                        "status",
                        "server_timing/queue_ms",
                        "server_timing/prefill_ms",
                        "server_timing/decode_ms",
                        "server_timing/serialize_ms",
                        "server_timing/total_ms",
                        "server_timing/lb_ms",
                        "server_timing/cached_tokens"));
        requests = leftOut(all, run == null ? null : run.path("config").path("first_rounds_left_out"));
        engineTimings = requests.doubleColumn("server_timing_decode_ms").countMissing() < requests.rowCount();
        if (!summary.containsColumn("http_tax_ms")) addTax(summary, requests);
        staleness = Files.exists(dir.resolve("freshness.jsonl"))
                ? jsonl(
                        dir.resolve("freshness.jsonl"),
                        "staleness",
                        List.of("strategy", "backend"),
                        List.of("step", "trainer_version", "weights_version", "lag", "status"))
                : null;
    }

    public static RunData load(Path dir) {
        return new RunData(dir);
    }

    /**
     * The requests without the first rounds compare left out as still warming (run.json's
     * {@code first_rounds_left_out}), so every table, chart and finding counts what the pooled rows count.
     */
    private static Table leftOut(Table requests, JsonNode warming) {
        if (warming == null || !warming.isArray() || warming.isEmpty()) return requests;
        Selection out = Selection.with();
        for (JsonNode w : warming) {
            for (int i = 0; i < requests.rowCount(); i++) {
                String cell = "in="
                        + (int) requests.doubleColumn("prompt_tokens").getDouble(i) + " out="
                        + (int) requests.doubleColumn("completion_tokens").getDouble(i);
                if (requests.stringColumn("topology")
                                .get(i)
                                .equals(w.path("topology").asText())
                        && requests.stringColumn("connection")
                                .get(i)
                                .equals(w.path("connection").asText())
                        && requests.doubleColumn("round").getDouble(i)
                                == w.path("round").asInt()
                        && cell.equals(w.path("workload").asText())) out.add(i);
            }
        }
        return requests.dropRows(out.toArray());
    }

    /**
     * Whether the engine reported its own queue, prefill and decode times per request, so each request's tax (e2el
     * minus them) is known; folders written before servers reported them have none.
     */
    public boolean hasEngineTimings() {
        return engineTimings;
    }

    /**
     * A folder written before summary.csv had {@code http_tax_ms} gets it here, from its requests as {@code compare}
     * computes it now (a round-0 row pools every round); empty where the requests carry no engine timings.
     */
    private static void addTax(Table summary, Table requests) {
        DoubleColumn tax = DoubleColumn.create("http_tax_ms"),
                low = DoubleColumn.create("http_tax_ms_ci_low"),
                high = DoubleColumn.create("http_tax_ms_ci_high");
        for (Row row : summary) {
            double[] xs = requests.stream()
                    .filter(r -> r.getBoolean("ok")
                            && r.getString("topology").equals(row.getString("topology"))
                            && r.getString("connection").equals(row.getString("connection"))
                            && ("in=" + (int) r.getNumber("prompt_tokens") + " out="
                                            + (int) r.getNumber("completion_tokens"))
                                    .equals(row.getString("workload"))
                            && (!summary.containsColumn("round")
                                    || row.getNumber("round") == 0
                                    || r.getNumber("round") == row.getNumber("round")))
                    .mapToDouble(Pairs.Metric.TAX::of)
                    .filter(x -> !Double.isNaN(x))
                    .toArray();
            Confidence.Interval ci = Summary.taxOf(xs);
            append(tax, ci.estimate());
            append(low, ci.low());
            append(high, ci.high());
        }
        summary.addColumns(tax, low, high);
    }

    private static void append(DoubleColumn c, double x) {
        if (Double.isNaN(x)) c.appendMissing();
        else c.append(x);
    }

    public Path dir() {
        return dir;
    }

    public Table summary() {
        return summary;
    }

    public Table requests() {
        return requests;
    }

    public Optional<Table> freshness() {
        return Optional.ofNullable(freshness);
    }

    /** Trainer-vs-rollout logprobs of the freshness experiment's scored samples (logprob_gap.csv). */
    public Optional<Table> logprobGaps() {
        return Optional.ofNullable(gaps);
    }

    /** Throughput vs concurrency per topology, every round pooled (compare runs only). */
    public Optional<Table> sweep() {
        return Optional.ofNullable(sweep).map(RunData::pooled);
    }

    /** CPU milliseconds per request per process on each leg's path (compare runs only). */
    public Optional<Table> cpu() {
        return Optional.ofNullable(cpu).map(RunData::pooled);
    }

    /** cpu.csv one row per leg, cell and round (the self-checks judge each round's load and steal). */
    public Optional<Table> cpuRounds() {
        return Optional.ofNullable(cpu)
                .map(t -> t.containsColumn("round")
                        ? t.where(t.numberColumn("round").isGreaterThan(0))
                        : t);
    }

    private static long lines(Path f) {
        try (Stream<String> s = Files.lines(f)) {
            return s.count();
        } catch (IOException e) {
            return 0;
        }
    }

    /** The servers' own metrics, scraped once a second during each HTTP cell (metrics.csv), when the run has them. */
    public Optional<Table> metrics() {
        return Optional.ofNullable(metrics);
    }

    public Optional<Table> staleness() {
        return Optional.ofNullable(staleness);
    }

    public Optional<JsonNode> run() {
        return Optional.ofNullable(run);
    }

    /** Summary rows of the throughput/latency legs, every round pooled (freshness rows excluded). */
    public Table legs() {
        return pooled(summary.where(summary.stringColumn("workload").isNotEqualTo("freshness")));
    }

    /** The same legs one row per round (empty for a run without rounds). */
    public Table legRounds() {
        Table t = summary.where(summary.stringColumn("workload").isNotEqualTo("freshness"));
        return t.containsColumn("round") ? t.where(t.numberColumn("round").isGreaterThan(0)) : t.emptyCopy();
    }

    /** Round 0 holds a run's pooled rows (a run without rounds has only those, or no round column at all). */
    private static Table pooled(Table t) {
        return t.containsColumn("round") ? t.where(t.numberColumn("round").isEqualTo(0)) : t;
    }

    /** Rounds measured (1 for a run without rounds). */
    public int rounds() {
        Table r = legRounds();
        return r.isEmpty() ? 1 : (int) r.numberColumn("round").max();
    }

    /**
     * The in-process topology an HTTP topology is measured against ({@link Topology#baselineAmong}, the rule compare
     * used when it wrote the run), as written in the results; null for an in-process one, a label of a foreign run, or
     * when no in-process topology ran.
     */
    public String baseline(String topology) {
        Set<Topology> ran = EnumSet.noneOf(Topology.class);
        for (String t : legs().stringColumn("topology").asList())
            Topology.find(t).ifPresent(ran::add);
        return Topology.find(topology)
                .flatMap(t -> t.baselineAmong(ran))
                .map(Topology::wire)
                .orElse(null);
    }

    /** Columns read as text, columns that are flags; every other column is a number, even when all of it is empty. */
    private static final Set<String>
            TEXT =
                    Set.of(
                            "topology",
                            "connection",
                            "workload",
                            "strategy",
                            "endpoint",
                            "leg",
                            "routing",
                            "server",
                            "metric"),
            FLAGS = Set.of("incomplete", "shows_this_machine", "counted");

    /**
     * Reads a CSV with fixed types instead of Tablesaw's per-file guess: a column that failed in every row (all empty)
     * must still be a number column, or every table and chart that reads it breaks.
     */
    static Table csv(Path f, String name) {
        var types = (Function<String, Optional<tech.tablesaw.api.ColumnType>>) c -> Optional.of(
                TEXT.contains(c)
                        ? tech.tablesaw.api.ColumnType.STRING
                        : FLAGS.contains(c)
                                ? tech.tablesaw.api.ColumnType.BOOLEAN
                                : tech.tablesaw.api.ColumnType.DOUBLE);
        return Table.read()
                .csv(CsvReadOptions.builder(f.toFile())
                        .tableName(name)
                        .missingValueIndicator("")
                        .columnTypesPartial(types)
                        .build());
    }

    private static Table jsonl(Path f, String name, List<String> text, List<String> numbers) {
        Table t = Table.create(name);
        StringColumn[] s = text.stream().map(StringColumn::create).toArray(StringColumn[]::new);
        // a nested field "a/b" is read by JSON pointer and becomes column "a_b"
        DoubleColumn[] d = numbers.stream()
                .map(c -> DoubleColumn.create(c.replace('/', '_')))
                .toArray(DoubleColumn[]::new);
        BooleanColumn ok = BooleanColumn.create("ok");
        if (Files.exists(f)) {
            try (Stream<String> lines = Files.lines(f)) {
                for (String line : (Iterable<String>) lines::iterator) {
                    if (line.isBlank()) continue;
                    JsonNode n = Json.parse(line);
                    for (int i = 0; i < s.length; i++)
                        s[i].append(n.path(text.get(i)).asText(""));
                    for (int i = 0; i < d.length; i++) {
                        JsonNode v = n.at("/" + numbers.get(i));
                        double x = v.isMissingNode() || v.isNull() ? Double.NaN : v.asDouble(Double.NaN);
                        if (Double.isNaN(x)) d[i].appendMissing();
                        else d[i].append(x);
                    }
                    ok.append(n.path("status").asInt() == 200 && !n.hasNonNull("error"));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(f + ": " + e.getMessage(), e);
            }
        }
        t.addColumns(s);
        t.addColumns(d);
        t.addColumns(ok);
        if (t.containsColumn("end_ns") && t.containsColumn("scheduled_ns")) {
            t.addColumns(t.doubleColumn("end_ns")
                    .subtract(t.doubleColumn("scheduled_ns"))
                    .divide(1e6)
                    .setName("e2el_ms"));
        }
        return t;
    }
}
