package dev.rolloutlab.compare;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.report.Report;
import dev.rolloutlab.report.RunData;
import dev.rolloutlab.testing.LesserOpenAiFixture;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Row;

/** compare and report against servers that implement less than ours, and against one that answers nothing useful. */
class LesserTargetsTest {

    @Test
    void chatOnlyNonStreamingTargetsWithoutUsageAreMeasuredWithTheirFallbacksListed() throws Exception {
        try (LesserOpenAiFixture a = new LesserOpenAiFixture(false);
                LesserOpenAiFixture b = new LesserOpenAiFixture(false)) {
            Path out = TestModels.tempDir("lesser").resolve("run");
            Processes.Run r = Processes.run(
                    300,
                    "compare",
                    "--quick",
                    "--targets",
                    a.url() + "," + b.url(),
                    "--topologies",
                    "http1,httpN,lb",
                    "--strategies",
                    "none",
                    "--out",
                    out.toString());
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.err().contains("endpoint /v1/chat/completions (auto)"), r.err());
            RunData d = RunData.load(out);
            Set<String> topologies = new HashSet<>();
            for (Row row : d.legs()) {
                assertTrue(row.getNumber("completed") > 0, "completed > 0 in " + row);
                assertTrue(row.isMissing("mean_ttft_ms"), "TTFT is not measured, not faked: " + row);
                assertTrue(row.isMissing("output_throughput"), "no usage, no tokenizer: tokens unknown: " + row);
                topologies.add(row.getString("topology"));
            }
            assertEquals(Set.of("http1", "httpN", "lb"), topologies);
            String report = Files.readString(out.resolve("REPORT.md"));
            assertTrue(report.contains("## What this target could not report"), report);
            assertTrue(report.contains("TTFT not measured") && report.contains("completion tokens unknown"), report);
            assertTrue(
                    Files.readString(out.resolve("requests.jsonl")).contains("\"endpoint\":\"chat\""),
                    "the record says which endpoint");
        }
    }

    @Test
    void withTheModelsTokenizerMissingUsageIsCounted() throws Exception {
        try (LesserOpenAiFixture a = new LesserOpenAiFixture(false)) {
            Path out = TestModels.tempDir("lesser-tok").resolve("run");
            Processes.Run r = Processes.run(
                    300,
                    "bench",
                    "--target",
                    a.url(),
                    "--endpoint",
                    "auto",
                    "--concurrency",
                    "2",
                    "--num-prompts",
                    "6",
                    "--out",
                    out.toString());
            assertEquals(0, r.exit(), r.err());
            Path out2 = TestModels.tempDir("lesser-tok2").resolve("run");
            Processes.Run c = Processes.run(
                    300,
                    "compare",
                    "--quick",
                    "--model",
                    TestModels.tiny().toString(),
                    "--targets",
                    a.url(),
                    "--topologies",
                    "http1",
                    "--strategies",
                    "none",
                    "--out",
                    out2.toString());
            assertEquals(0, c.exit(), c.err());
            String records = Files.readString(out2.resolve("requests.jsonl"));
            assertTrue(
                    records.contains("\"tokens_from\":\"tokenizer\""),
                    records.substring(0, Math.min(600, records.length())));
            assertTrue(Files.readString(out2.resolve("REPORT.md")).contains("counted with the model's tokenizer"));
        }
    }

    @Test
    void aTargetThatAnswers404StopsWithinSecondsWithOneLineAndStillWritesAReport() throws Exception {
        try (LesserOpenAiFixture nothing = new LesserOpenAiFixture(true)) {
            Path out = TestModels.tempDir("lesser-404").resolve("run");
            long t0 = System.nanoTime();
            Processes.Run r = Processes.run(
                    300,
                    "compare",
                    "--quick",
                    "--targets",
                    nothing.url(),
                    "--topologies",
                    "http1,httpN",
                    "--endpoint",
                    "completions",
                    "--strategies",
                    "none",
                    "--out",
                    out.toString());
            double sec = (System.nanoTime() - t0) / 1e9;
            assertTrue(sec < 60, "stopped within seconds, not after every leg (" + sec + " s)");
            long reasons = r.err()
                    .lines()
                    .filter(l -> l.contains("target answers 404 on /v1/completions"))
                    .count();
            assertTrue(reasons >= 1, r.err());
            assertTrue(r.err().contains("use --endpoint chat"), r.err());
            String report = Files.readString(out.resolve("REPORT.md"));
            assertTrue(report.contains("## Failures") && report.contains("unknown path"), report);
            assertTrue(Files.exists(out.resolve("summary.csv")));
            // and report rereads the all-failed folder without an exception
            Processes.Run rep = Processes.run(120, "report", out.toString());
            assertEquals(0, rep.exit(), rep.err());
        }
    }

    @Test
    void benchAgainstA404TargetStopsFastAndItsFolderStillReportsAndPlots() throws Exception {
        try (LesserOpenAiFixture nothing = new LesserOpenAiFixture(true)) {
            Path out = TestModels.tempDir("lesser-bench-404").resolve("run");
            Processes.Run r = Processes.run(
                    120,
                    "bench",
                    "--target",
                    nothing.url(),
                    "--model",
                    "m",
                    "--concurrency",
                    "2",
                    "--num-prompts",
                    "200",
                    "--out",
                    out.toString());
            assertEquals(1, r.exit(), r.err());
            assertTrue(
                    r.err().contains("target answers 404 on /v1/completions")
                            && r.err().contains("use --endpoint chat"),
                    r.err());
            long recorded = Files.readAllLines(out.resolve("requests.jsonl")).size();
            assertTrue(recorded < 20, "stopped after the first few, not all 200: " + recorded);
            Processes.Run rep = Processes.run(120, "report", out.toString());
            assertEquals(0, rep.exit(), rep.err());
            assertTrue(Files.readString(out.resolve("REPORT.md")).contains("## Failures"));
            for (String png : Report.PLOTS)
                assertTrue(Files.exists(out.resolve("plots").resolve(png)), png);
        }
    }
}
