package dev.rolloutlab.report;

import dev.rolloutlab.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The report of a stored results fixture (a --quick run) is the same every time and states its numbers. */
class ReportTest {
    static Path fixtureCopy() throws Exception {
        Path src = Path.of("src/test/resources/fixtures/results-quick");
        Path dst = TestModels.tempDir("report");
        try (Stream<Path> s = Files.list(src)) {
            for (Path p : s.toList()) Files.copy(p, dst.resolve(p.getFileName()));
        }
        return dst;
    }

    @Test
    void sameTablesEveryTime() throws Exception {
        Path a = fixtureCopy(), b = fixtureCopy();
        String first = Files.readString(Report.write(a));
        String second = Files.readString(Report.write(b));
        assertEquals(first, second);
        assertEquals(first, Report.markdown(ResultsData.load(a)));
        // numbers straight from the fixture's summary.csv
        assertTrue(first.contains("| inproc | none | in=8 out=1 | 16 | 0 |"), first);
        assertTrue(first.contains("in-process 1.84 ms vs one HTTP port 18.32 ms"), first);
        assertTrue(first.contains("inproc-swap 0.00"), first);
        for (String png : Report.PLOTS) assertTrue(Files.size(a.resolve("plots").resolve(png)) > 1000, png);
    }

    @Test
    void tablesAreReadWithStableTypes() throws Exception {
        ResultsData d = ResultsData.load(fixtureCopy());
        assertEquals(28, d.legs().rowCount());
        assertEquals(5, d.freshness().orElseThrow().rowCount());
        assertTrue(d.requests().rowCount() > 400);
        assertTrue(d.requests().doubleColumn("e2el_ms").min() > 0);
        assertEquals(0, d.staleness().orElseThrow().where(d.staleness().orElseThrow().stringColumn("strategy").isEqualTo("inproc-swap"))
                .doubleColumn("lag").sum());
    }

    @Test
    void aFolderWithoutResultsIsRefusedClearly() {
        var e = assertThrows(IllegalArgumentException.class, () -> ResultsData.load(TestModels.tempDir("empty")));
        assertTrue(e.getMessage().contains("summary.csv"));
    }
}
