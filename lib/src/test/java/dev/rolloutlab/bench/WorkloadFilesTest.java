package dev.rolloutlab.bench;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.openai.CompletionRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Workloads read from files: a JSONL dataset and a Mooncake trace, and the errors a bad line gets. */
class WorkloadFilesTest {
    static final Workload.Sampling S =
            new Workload.Sampling(CompletionRequest.Endpoint.COMPLETIONS, "m", 8, null, 1.0, 1L, 1, false, true);

    @Test
    void aDatasetGivesOneRequestPerLineAndNamesABadLine(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(
                dir.resolve("d.jsonl"),
                "{\"prompt\": \"hello\"}\n\n{\"prompt\": [11, 12, 13]}\n{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n");
        Workload w = Workload.fromJsonl(f, S);
        assertEquals(3, w.requests().size());
        assertArrayEquals(new int[] {11, 12, 13}, w.requests().get(1).promptTokenIds());
        assertEquals(CompletionRequest.Endpoint.CHAT, w.requests().get(2).endpoint());
        Path bad = Files.writeString(dir.resolve("bad.jsonl"), "{\"prompt\": \"ok\"}\n{not json\n");
        var e = assertThrows(IllegalArgumentException.class, () -> Workload.fromJsonl(bad, S));
        assertTrue(e.getMessage().contains("line 2: not JSON"), e.getMessage());
    }

    @Test
    void aTraceBuildsEqualBlocksForEqualHashIdsAndNamesAMissingField(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(
                dir.resolve("t.jsonl"),
                "{\"timestamp\": 100, \"input_length\": 1024, \"output_length\": 4, \"hash_ids\": [7, 8]}\n"
                        + "{\"timestamp\": 350, \"input_length\": 1000, \"output_length\": 64, \"hash_ids\": [7, 9]}\n");
        var replay = MooncakeTrace.read(f.toString(), S, 16, 1000);
        assertArrayEquals(new double[] {0, 250}, replay.atMs(), "times from the trace's first request");
        int[] a = replay.workload().requests().get(0).promptTokenIds(),
                b = replay.workload().requests().get(1).promptTokenIds();
        assertEquals(32, a.length, "two 512-token blocks at 16 tokens each");
        assertEquals(32, b.length, "1000 tokens scaled by 16/512, rounded up");
        assertArrayEquals(Arrays.copyOf(a, 16), Arrays.copyOf(b, 16), "hash id 7: the same block");
        assertFalse(Arrays.equals(Arrays.copyOfRange(a, 16, 32), Arrays.copyOfRange(b, 16, 32)));
        assertEquals(8, replay.workload().requests().get(1).maxTokens(), "capped by --max-tokens");
        Path bad = Files.writeString(
                dir.resolve("bad.jsonl"), "{\"timestamp\": 1, \"input_length\": 5, \"output_length\": 2}\n");
        var e = assertThrows(IllegalArgumentException.class, () -> MooncakeTrace.read(bad.toString(), S, 16, 1000));
        assertTrue(e.getMessage().contains("line 1: needs \"hash_ids\""), e.getMessage());
    }
}
