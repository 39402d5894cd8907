package dev.rolloutlab.results;

import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A results folder, {@code results/<run-id>/}: {@code requests.jsonl}, {@code summary.csv}, {@code summary.json} and
 * {@code run.json}. Every file is written atomically; a new run never reuses an existing folder.
 */
public final class RunFolder {

    private final Path dir;

    private RunFolder(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** {@code out} if given (it must not hold a run yet), else {@code results/<timestamp>-<kind>} made unique. */
    /**
     * Where runs go by default: {@code $ROLLOUT_LAB_RESULTS}, else {@code results/} at the checkout root above the
     * working directory.
     */
    public static Path root() {
        String env = System.getenv("ROLLOUT_LAB_RESULTS");
        if (env != null && !env.isBlank()) return Path.of(env);
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("jbang-catalog.json"))) return p.resolve("results");
        }
        return Path.of("results").toAbsolutePath();
    }

    /** The newest finished run under {@code root} (one with a summary), by folder name. */
    public static Optional<Path> latest(Path root) {
        return latestWith(root, "summary.csv");
    }

    /** The newest finished run under {@code root} holding {@code file} (e.g. a shared-prefix run's prefix.csv). */
    public static Optional<Path> latestWith(Path root, String file) {
        if (!Files.isDirectory(root)) return Optional.empty();
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> Files.exists(p.resolve(file)))
                    .max(Comparator.comparing(p -> p.getFileName().toString()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static RunFolder create(Path out, String kind) {
        try {
            Path d;
            if (out != null) {
                if (Files.exists(out) && !Files.isDirectory(out)) {
                    throw new IllegalArgumentException(
                            "--out " + out + " is a file; give a folder for the results (it is created if missing)");
                }
                if (Files.exists(out.resolve("summary.csv")) || Files.exists(out.resolve("prefix.csv"))) {
                    throw new IllegalArgumentException(
                            "--out " + out + " already holds a run; choose a new folder (runs are never overwritten)");
                }
                d = out;
            } else {
                String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
                d = Path.of("results", stamp + "-" + kind);
                for (int i = 2; Files.exists(d); i++) d = Path.of("results", stamp + "-" + kind + "-" + i);
            }
            Files.createDirectories(d);
            if (!Files.isWritable(d))
                throw new IllegalArgumentException("--out " + d + ": the folder is not writable; choose another");
            return new RunFolder(d);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "--out " + (out != null ? out : "results/") + ": cannot create the results folder ("
                            + e.getClass()
                                    .getSimpleName()
                                    .replace("Exception", "")
                                    .replaceAll("([a-z])([A-Z])", "$1 $2")
                                    .toLowerCase()
                            + (e.getMessage() != null ? ": " + e.getMessage() : "") + "); choose another folder");
        }
    }

    public void writeRequests(List<RequestRecord> records) {
        StringBuilder sb = new StringBuilder(records.size() * 300);
        for (RequestRecord r : records) sb.append(Json.write(r)).append('\n');
        Json.writeText(dir.resolve("requests.jsonl"), sb.toString());
    }

    public void writeSummaries(List<Summary> summaries) {
        List<SummaryRow> rows = summaries.stream().map(SummaryRow::of).toList();
        Json.writeFile(dir.resolve("summary.json"), rows);
        writeCsv("summary.csv", SummaryRow.class, rows);
    }

    /** sweep.csv: throughput and latency per topology and concurrency. */
    public <T extends Record> void writeSweep(Class<T> type, List<T> points) {
        writeCsv("sweep.csv", type, points);
    }

    /** Any table of records as {@code name} (a CSV), for the measurements a command adds beside the summary. */
    public <T extends Record> void writeTable(String name, Class<T> type, List<T> rows) {
        writeCsv(name, type, rows);
    }

    /**
     * A CSV whose columns are the record's components in snake_case, in declaration order, so no column list is kept by
     * hand.
     */
    private <T> void writeCsv(String name, Class<T> type, List<T> rows) {
        Json.writeText(dir.resolve(name), Json.csv(type, rows));
    }

    /** freshness.jsonl (one line per sample) and freshness.csv (one row per weight-update strategy). */
    public <T extends Record> void writeFreshness(List<?> samples, Class<T> type, List<T> strategies) {
        StringBuilder sb = new StringBuilder();
        for (Object o : samples) sb.append(Json.write(o)).append('\n');
        Json.writeText(dir.resolve("freshness.jsonl"), sb.toString());
        writeCsv("freshness.csv", type, strategies);
    }

    /** run.json: the command's configuration plus the machine and versions it ran on. */
    public void writeRun(Map<String, Object> config, boolean incomplete, String reason) {
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("config", config);
        run.put("machine", machine());
        run.put("provenance", Provenance.current());
        run.put("incomplete", incomplete);
        if (reason != null) run.put("incomplete_reason", reason);
        run.put("finished_at", Instant.now().toString());
        Json.writeFile(dir.resolve("run.json"), run);
    }

    public static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put(
                "memory_gib",
                Math.round(((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                                .getTotalMemorySize()
                        / (1024.0 * 1024 * 1024)));
        m.put("cpu", cpuModel());
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("java", System.getProperty("java.vendor") + " " + System.getProperty("java.version"));
        m.put(
                "vector_api",
                ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
        m.put("rollout_lab", "0.1.0-SNAPSHOT");
        return m;
    }

    private static String cpuModel() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name"))
                    return l.substring(l.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }
}
