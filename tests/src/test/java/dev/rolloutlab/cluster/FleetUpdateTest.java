package dev.rolloutlab.cluster;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.SparseDelta;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/**
 * Fleet weight updates on real serve processes: a transaction that commits everywhere or nowhere, a sparse delta that
 * lands on exactly the weights of the full update, and the refusals (wrong base, corrupt or truncated payloads, no
 * token).
 */
class FleetUpdateTest {
    private static final String TOKEN = "fleet-admin-token";
    private static final OkHttpClient HTTP = OpenAiClient.http(8, Duration.ofSeconds(60));

    @Test
    void anAtomicUpdateCommitsEverywhereAndADeltaLandsOnTheFullUpdatesWeights() throws Exception {
        Path dir = TestModels.tempDir("fleet-ok");
        Path tokenFile = token(dir);
        Path v1 = perturbed(TestModels.tiny(), dir.resolve("v1"), 1), v2 = perturbed(v1, dir.resolve("v2"), 2);
        try (ServeProcess a = serve(dir, "a", tokenFile);
                ServeProcess b = serve(dir, "b", tokenFile);
                RegistryServer reg = new RegistryServer(
                        "127.0.0.1", 0, "tiny", List.of(hostPort(a), hostPort(b)), Duration.ofSeconds(30), TOKEN)) {
            Processes.Run r = Processes.run(
                    120,
                    "weights",
                    "--registry-url",
                    reg.url(),
                    "--admin-token-file",
                    tokenFile.toString(),
                    "update",
                    "--from",
                    v1.toString(),
                    "--atomic");
            assertEquals(0, r.exit(), r.out() + r.err());
            assertTrue(r.out().contains("updated 2 server(s)") && r.out().contains("staged in"), r.out());
            assertEquals(checksum(a), checksum(b));
            assertEquals(1, version(a));
            assertEquals(1, version(b));

            // v1 -> v2: a full push to a, a sparse delta to b; both end on the same weights
            Processes.Run full = Processes.run(
                    120,
                    "weights",
                    "--base-url",
                    url(a),
                    "--admin-token-file",
                    tokenFile.toString(),
                    "update",
                    "--from",
                    v2.toString());
            assertEquals(0, full.exit(), full.out() + full.err());
            Processes.Run delta = Processes.run(
                    120,
                    "weights",
                    "--base-url",
                    url(b),
                    "--admin-token-file",
                    tokenFile.toString(),
                    "update",
                    "--from",
                    v2.toString(),
                    "--delta-from",
                    v1.toString(),
                    "--atomic");
            assertEquals(0, delta.exit(), delta.out() + delta.err());
            assertTrue(delta.err().contains("sparse delta"), delta.err());
            assertEquals(2, version(a));
            assertEquals(2, version(b));
            assertEquals(checksum(a), checksum(b), "the delta gives the full update's checksum");
            CompletionRequest req = CompletionRequest.completion(null, new int[] {5, 6, 7, 8}, 12, 0.0)
                    .withSampling(1, null, true);
            assertEquals(
                    new OpenAiClient(HTTP, url(a), null, true).complete(req).text(),
                    new OpenAiClient(HTTP, url(b), null, true).complete(req).text(),
                    "and the same greedy completion");

            // a delta for another base is refused with 409 and nothing changes
            double before = checksum(b);
            Processes.Run stale = Processes.run(
                    120,
                    "weights",
                    "--base-url",
                    url(b),
                    "--admin-token-file",
                    tokenFile.toString(),
                    "update",
                    "--from",
                    v2.toString(),
                    "--delta-from",
                    v1.toString(),
                    "--base-version",
                    "1");
            assertEquals(1, stale.exit(), stale.out());
            assertTrue(stale.out().contains("409") || stale.err().contains("409"), stale.out() + stale.err());
            assertEquals(2, version(b));
            assertEquals(before, checksum(b));
        }
    }

    @Test
    void aServerThatCannotStageAbortsTheUpdateEverywhereAndIsNamed() throws Exception {
        Path dir = TestModels.tempDir("fleet-fault");
        Path tokenFile = token(dir);
        Path v1 = perturbed(TestModels.tiny(), dir.resolve("v1"), 3);
        try (ServeProcess a = serve(dir, "a", tokenFile);
                ServeProcess b = serve(dir, "b", tokenFile);
                RegistryServer reg = new RegistryServer(
                        "127.0.0.1", 0, "tiny", List.of(hostPort(a), hostPort(b)), Duration.ofSeconds(30), TOKEN)) {
            double before = checksum(a);
            b.close(); // b dies before it can answer its stage
            Processes.Run r = Processes.run(
                    120,
                    "weights",
                    "--registry-url",
                    reg.url(),
                    "--admin-token-file",
                    tokenFile.toString(),
                    "update",
                    "--from",
                    v1.toString(),
                    "--atomic");
            assertEquals(1, r.exit(), r.out() + r.err());
            assertTrue(
                    r.err().contains("staging failed on 1 of 2")
                            && r.err().contains(url(b))
                            && r.err().contains("aborted everywhere"),
                    r.err());
            assertTrue(r.out().contains("NOT updated"), r.out());
            assertEquals(0, version(a), "a stays on the old version");
            assertEquals(before, checksum(a));
            JsonNode status = admin(a).getWith("/admin/reload_status", Map.of("X-Admin-Token", TOKEN))
                    .json();
            assertTrue(
                    status.path("staged").isMissingNode()
                            || status.path("staged").isNull(),
                    "a's staged copy was dropped: " + status);
        }
    }

    @Test
    void corruptTruncatedAndUnauthorisedPayloadsAreRefusedAndTheOldWeightsKeepServing() throws Exception {
        Path dir = TestModels.tempDir("fleet-bad");
        Path tokenFile = token(dir);
        Path v1 = perturbed(TestModels.tiny(), dir.resolve("v1"), 4);
        try (ServeProcess a = serve(dir, "a", tokenFile)) {
            double before = checksum(a);
            Map<String, String> h = new LinkedHashMap<>(Map.of("X-Admin-Token", TOKEN, "X-Stage-Id", "s1"));
            byte[] full = Safetensors.toBytes(Checkpoint.readTensors(v1), DType.F32);
            h.put("X-Payload-Sha256", "0".repeat(64));
            var wrongSum = admin(a).postBytes("/admin/stage_weights", full, "application/octet-stream", h);
            assertEquals(400, wrongSum.status(), wrongSum.body());
            assertTrue(wrongSum.body().contains("corrupt or truncated"), wrongSum.body());
            byte[] delta = SparseDelta.between(0, Checkpoint.readTensors(TestModels.tiny()), Checkpoint.readTensors(v1))
                    .toBytes();
            var truncated = admin(a).postBytes(
                            "/admin/update_weights",
                            Arrays.copyOf(delta, delta.length - 5),
                            "application/octet-stream",
                            Map.of("X-Admin-Token", TOKEN));
            assertEquals(400, truncated.status(), truncated.body());
            var cut = admin(a).postBytes(
                            "/admin/update_weights",
                            Arrays.copyOf(full, full.length / 2),
                            "application/octet-stream",
                            Map.of("X-Admin-Token", TOKEN));
            assertEquals(400, cut.status(), cut.body());
            var nothing =
                    admin(a).post("/admin/commit_weights", Map.of("stage_id", "s1"), Map.of("X-Admin-Token", TOKEN));
            assertEquals(409, nothing.status(), "nothing was staged: " + nothing.body());
            for (String path : List.of("/admin/stage_weights", "/admin/commit_weights", "/admin/abort_weights")) {
                assertEquals(
                        401,
                        admin(a).postBytes(path, full, "application/octet-stream", Map.of("X-Stage-Id", "s2"))
                                .status(),
                        path + " needs the token");
            }
            assertEquals(0, version(a));
            assertEquals(before, checksum(a), "the old weights keep serving");
            assertEquals(
                    200,
                    new OpenAiClient(HTTP, url(a), null, true)
                            .complete(CompletionRequest.completion(null, new int[] {5, 6}, 2, 0.0))
                            .status());
        }
    }

    /** A copy of {@code from}'s tensors with about 5 % of the elements of every tensor changed, seeded. */
    static Path perturbed(Path from, Path to, long seed) throws Exception {
        Map<String, Tensor> t = Checkpoint.readTensors(from), out = new LinkedHashMap<>();
        SplittableRandom r = new SplittableRandom(seed);
        for (var e : t.entrySet()) {
            float[] d = e.getValue().data().clone();
            for (int i = 0; i < d.length; i++) if (r.nextDouble() < 0.05) d[i] += (float) (r.nextGaussian() * 0.01);
            out.put(e.getKey(), new Tensor(e.getKey(), e.getValue().shape(), d));
        }
        Files.createDirectories(to);
        Safetensors.write(to.resolve("model.safetensors"), out, DType.F32);
        return to;
    }

    private static ServeProcess serve(Path dir, String name, Path tokenFile) {
        return ServeProcess.start(
                new ArrayList<>(List.of(
                        "--model",
                        TestModels.tiny().toString(),
                        "--num-servers",
                        "1",
                        "--base-port",
                        "0",
                        "--enable-weight-reload",
                        "--admin-token-file",
                        tokenFile.toString())),
                dir.resolve(name + ".log"),
                Duration.ofSeconds(120));
    }

    private static Path token(Path dir) throws Exception {
        return Files.writeString(dir.resolve("admin.token"), TOKEN);
    }

    private static String url(ServeProcess s) {
        return s.urls().get(0);
    }

    private static String hostPort(ServeProcess s) {
        return url(s).replaceFirst("^http://", "");
    }

    private static OpenAiClient admin(ServeProcess s) {
        return new OpenAiClient(HTTP, url(s), null, true);
    }

    private static JsonNode sum(ServeProcess s) {
        var x = admin(s).getWith("/admin/weights_checksum", Map.of("X-Admin-Token", TOKEN));
        assertEquals(200, x.status(), x.body());
        return x.json();
    }

    private static double checksum(ServeProcess s) {
        return sum(s).path("checksum").asDouble();
    }

    private static long version(ServeProcess s) {
        return sum(s).path("version").asLong();
    }
}
