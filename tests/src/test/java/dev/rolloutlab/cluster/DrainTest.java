package dev.rolloutlab.cluster;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/**
 * {@code weights update --drain}: before a server swaps, its requests in flight finish (or, at the deadline, are
 * aborted with what they generated), so no answer spans two versions; the update reports the time to quiesce and the
 * tokens thrown away.
 */
class DrainTest {
    private static final String TOKEN = "drain-admin-token";
    /** The longest completion the small model's 1,024 positions hold after the four-token prompt. */
    private static final int LONGEST = 1_000;

    private static final OkHttpClient HTTP = OpenAiClient.http(8, Duration.ofSeconds(120));

    @Test
    void aDrainPastItsDeadlineAbortsWhatRunsAndAShortOneLetsItFinishOnTheOldVersion() throws Exception {
        Path dir = TestModels.tempDir("drain");
        Path tokenFile = Files.writeString(dir.resolve("admin.token"), TOKEN);
        Path v1 = FleetUpdateTest.perturbed(TestModels.small(), dir.resolve("v1"), 11);
        try (ServeProcess s = ServeProcess.start(
                List.of(
                        "--model",
                        TestModels.small().toString(),
                        "--num-servers",
                        "1",
                        "--base-port",
                        "0",
                        "--enable-weight-reload",
                        "--admin-token-file",
                        tokenFile.toString()),
                dir.resolve("serve.log"),
                Duration.ofSeconds(120))) {
            String url = s.urls().get(0);
            OpenAiClient c = new OpenAiClient(HTTP, url, null, true);

            // 1. the CLI with a 200 ms drain: the longest request (about 4 s here, the CLI's JVM starting meanwhile)
            // cannot finish in time and is cut short
            CompletableFuture<OpenAiClient.Exchange> longer = send(c, LONGEST);
            awaitRunning(c);
            Processes.Run r = Processes.run(
                    120,
                    "weights",
                    "--base-url",
                    url,
                    "--admin-token-file",
                    tokenFile.toString(),
                    "update",
                    "--from",
                    v1.toString(),
                    "--drain",
                    "200");
            assertEquals(0, r.exit(), r.out() + r.err());
            Matcher m = Pattern.compile(
                            "drain: quiet after ([0-9.]+) ms, 1 in flight, 1 aborted, (\\d+) tokens thrown away")
                    .matcher(r.out());
            assertTrue(m.find(), r.out());
            assertTrue(Double.parseDouble(m.group(1)) >= 200, "it waited its 200 ms first: " + m.group(1));
            OpenAiClient.Exchange cut = longer.get();
            JsonNode cutBody = cut.json();
            assertEquals(
                    "abort",
                    cutBody.path("choices").get(0).path("finish_reason").asText(),
                    cut.body());
            int thrown = cutBody.path("usage").path("completion_tokens").asInt();
            assertTrue(thrown > 0 && thrown < LONGEST, "stopped with what it had: " + thrown);
            assertEquals(thrown, Integer.parseInt(m.group(2)), "the report counts the tokens the aborted request had");
            assertEquals("0", cut.headers().get("X-Weights-Version"));
            assertNull(cut.headers().get("X-Weights-Version-Max"), "the aborted request never ran on the new weights");

            // 2. a drain long enough: the request in flight finishes normally, all on the old version, then the swap.
            // The checkpoint is serialised before the request starts, and the request is as long as the model's context
            // allows, so it is still running when the upload arrives (it takes seconds; the upload well under one).
            byte[] body = Safetensors.toBytes(Checkpoint.readTensors(TestModels.small()), DType.F32);
            CompletableFuture<OpenAiClient.Exchange> shorter = send(c, LONGEST);
            awaitRunning(c);
            OpenAiClient.Exchange up = c.postBytes(
                    "/admin/update_weights",
                    body,
                    "application/octet-stream",
                    Map.of("X-Admin-Token", TOKEN, "X-Drain-Ms", "50000"));
            assertEquals(200, up.status(), up.body());
            JsonNode drain = up.json().path("drain");
            assertEquals(1, drain.path("in_flight").asInt(), up.body());
            assertEquals(0, drain.path("aborted").asInt(), up.body());
            assertEquals(0, drain.path("tokens_thrown_away").asInt(), up.body());
            assertTrue(
                    drain.path("quiesce_ms").asDouble() < 50_000,
                    up.body()); // the drain ended on its own, before its 50 s deadline (physical bound)
            OpenAiClient.Exchange done = shorter.get();
            assertEquals(
                    "length",
                    done.json().path("choices").get(0).path("finish_reason").asText(),
                    done.body());
            assertEquals(
                    LONGEST, done.json().path("usage").path("completion_tokens").asInt());
            assertEquals("1", done.headers().get("X-Weights-Version"));
            assertNull(done.headers().get("X-Weights-Version-Max"), "every token under the old version");
            assertEquals(2, up.json().path("version").asLong());

            // a drain longer than the server allows is refused, and nothing changes
            OpenAiClient.Exchange tooLong = c.postBytes(
                    "/admin/update_weights",
                    body,
                    "application/octet-stream",
                    Map.of("X-Admin-Token", TOKEN, "X-Drain-Ms", "99999999"));
            assertEquals(400, tooLong.status(), tooLong.body());
            assertTrue(tooLong.body().contains("X-Drain-Ms"), tooLong.body());
        }
    }

    private static CompletableFuture<OpenAiClient.Exchange> send(OpenAiClient c, int tokens) {
        return CompletableFuture.supplyAsync(() -> c.post(
                "/v1/completions",
                Map.of("prompt", List.of(5, 6, 7, 8), "max_tokens", tokens, "ignore_eos", true, "temperature", 0),
                Map.of()));
    }

    private static void awaitRunning(OpenAiClient c) {
        assertTrue(
                Await.until(
                        () -> c.get("/get_load").json().path("num_running_reqs").asInt() > 0, Duration.ofSeconds(30)),
                "the request started");
    }
}
