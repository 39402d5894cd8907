package dev.rolloutlab.report;

import dev.rolloutlab.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The report of a stored results fixture (a --quick run), checked against numbers computed here from its raw requests. */
class ReportTest {
    static Path fixtureCopy() throws Exception {
        Path src = Path.of("src/test/resources/fixtures/results-quick");
        Path dst = TestModels.tempDir("report");
        try (Stream<Path> s = Files.list(src)) {
            for (Path p : s.toList()) Files.copy(p, dst.resolve(p.getFileName()));
        }
        return dst;
    }

    /** Mean end-to-end latency (ms, from the scheduled send) of one leg, computed here from requests.jsonl, not by the report. */
    static double meanE2elMs(Path dir, String topology, String connection, int promptTokens, int completionTokens) throws Exception {
        double sum = 0;
        int n = 0;
        for (String line : Files.readAllLines(dir.resolve("requests.jsonl"))) {
            var r = dev.rolloutlab.util.Json.parse(line);
            if (r.path("topology").asText().equals(topology) && r.path("connection").asText().equals(connection)
                    && r.path("prompt_tokens").asInt() == promptTokens && r.path("completion_tokens").asInt() == completionTokens
                    && r.path("status").asInt() == 200) {
                sum += (r.path("end_ns").asLong() - r.path("scheduled_ns").asLong()) / 1e6;
                n++;
            }
        }
        assertTrue(n > 0, "no records for " + topology + " " + connection);
        return sum / n;
    }

    static long count(Path dir, String topology, String connection, int promptTokens, int completionTokens) throws Exception {
        return Files.readAllLines(dir.resolve("requests.jsonl")).stream().filter(l -> l.contains("\"topology\":\"" + topology + "\"")
                && l.contains("\"connection\":\"" + connection + "\"") && l.contains("\"prompt_tokens\":" + promptTokens + ",")
                && l.contains("\"completion_tokens\":" + completionTokens + ",") && l.contains("\"status\":200")).count();
    }

    @Test
    void theReportStatesTheNumbersOfItsRequests() throws Exception {
        Path a = fixtureCopy(), b = fixtureCopy();
        String first = Files.readString(Report.write(a));
        assertEquals(first, Files.readString(Report.write(b)), "the same results give the same report");
        double inproc = meanE2elMs(a, "inproc", "none", 8, 1), http1 = meanE2elMs(a, "http1", "keep-alive", 8, 1);
        String finding = String.format(java.util.Locale.ROOT, "in-process %.2f ms vs one HTTP port %.2f ms", inproc, http1);
        assertTrue(first.contains(finding), "expected \"" + finding + "\" in\n" + first);
        assertTrue(first.contains(String.format(java.util.Locale.ROOT, "i.e. +%.2f ms per request", http1 - inproc)), first);
        long completed = count(a, "inproc", "none", 8, 1);
        assertEquals(16, completed);
        assertTrue(first.contains("| inproc | none | in=8 out=1 | " + completed + " | 0 |"), first);
        for (String png : Report.PLOTS) assertTrue(Files.size(a.resolve("plots").resolve(png)) > 1000, png);
    }

    @Test
    void tablesAreReadWithStableTypes() throws Exception {
        RunData d = RunData.load(fixtureCopy());
        assertEquals(28, d.legs().rowCount());
        assertEquals(5, d.freshness().orElseThrow().rowCount());
        assertTrue(d.requests().rowCount() > 400);
        assertTrue(d.requests().doubleColumn("e2el_ms").min() > 0);
        assertEquals(0, d.staleness().orElseThrow().where(d.staleness().orElseThrow().stringColumn("strategy").isEqualTo("inproc-swap"))
                .doubleColumn("lag").sum());
    }

    @Test
    void aFolderWithoutResultsIsRefusedClearly() {
        var e = assertThrows(IllegalArgumentException.class, () -> RunData.load(TestModels.tempDir("empty")));
        assertTrue(e.getMessage().contains("summary.csv"));
    }
}
