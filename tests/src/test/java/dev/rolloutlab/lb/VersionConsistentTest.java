package dev.rolloutlab.lb;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.cluster.FleetUpdate;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.SparseDelta;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/**
 * {@code lb --version-consistent} on real servers whose weights change under load: the requests of one group
 * ({@code X-Group-Id}) are all sampled under one version, and a server that died in the middle of a fleet commit and
 * came back on its old weights gets no traffic until it has caught up.
 */
class VersionConsistentTest {
    private static final String TOKEN = "vc-admin-token";
    private static final OkHttpClient HTTP = OpenAiClient.http(64, Duration.ofSeconds(120));
    private static final Map<String, String> ADMIN = Map.of("X-Admin-Token", TOKEN);

    @Test
    void aGroupNeverMixesVersionsAcross200GroupsWhileUpdatesRun() throws Exception {
        int groups = 200, perGroup = 4;
        try (ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                        .ports(List.of(0, 0))
                        .servedModelName("tiny")
                        .weightAdmin(TOKEN)
                        .build());
                LoadBalancer lb = new LoadBalancer(LbOptions.builder()
                        .backends(g.urls())
                        .policy(Policy.parse("round-robin"))
                        .healthInterval(Duration.ofMillis(100))
                        .versionConsistent(true)
                        .build());
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger updates = new AtomicInteger();
            // the worst case for consistency: plain pushes, one server after the other, so the fleet is often split;
            // a fleet update every 100 ms (RL steps take seconds) while the groups run
            CompletableFuture<Void> updater = CompletableFuture.runAsync(
                    () -> {
                        for (long seed = 1; !done.get(); seed++) {
                            for (String u : g.urls()) {
                                var x = new OpenAiClient(HTTP, u, null, true)
                                        .post("/admin/perturb_weights", Map.of("seed", seed, "scale", 1e-3), ADMIN);
                                assertEquals(200, x.status(), x.body());
                                updates.incrementAndGet();
                            }
                            LockSupport.parkNanos(100_000_000L);
                        }
                    },
                    pool);
            try {
                OpenAiClient viaLb = new OpenAiClient(HTTP, lb.url(), null, true);
                List<CompletableFuture<List<OpenAiClient.Exchange>>> all = new ArrayList<>();
                Semaphore inFlight = new Semaphore(8);
                for (int i = 0; i < groups; i++) {
                    String group = "grp-" + i;
                    inFlight.acquire();
                    List<CompletableFuture<OpenAiClient.Exchange>> reqs = new ArrayList<>();
                    for (int k = 0; k < perGroup; k++) {
                        Map<String, Object> body = Map.of(
                                "prompt",
                                List.of(5, 6, 7, 8 + i % 50),
                                "max_tokens",
                                8,
                                "temperature",
                                1.0,
                                "seed",
                                i * 10 + k);
                        reqs.add(CompletableFuture.supplyAsync(
                                () -> viaLb.post("/v1/completions", body, Map.of("X-Group-Id", group)), pool));
                    }
                    all.add(CompletableFuture.allOf(reqs.toArray(CompletableFuture[]::new))
                            .thenApply(v ->
                                    reqs.stream().map(CompletableFuture::join).toList())
                            .whenComplete((r, e) -> inFlight.release()));
                }
                int complete = 0, refused = 0;
                Set<String> versionsSeen = new HashSet<>();
                for (var f : all) {
                    List<OpenAiClient.Exchange> answers = f.get();
                    Set<String> versions = new HashSet<>();
                    boolean whole = true;
                    for (OpenAiClient.Exchange x : answers) {
                        if (x.status() == 409) {
                            assertTrue(x.body().contains("group_version_unavailable"), x.body());
                            whole = false;
                            continue;
                        }
                        assertEquals(200, x.status(), x.body());
                        assertNull(x.headers().get("x-weights-version-max"), "no answer spans two versions");
                        versions.add(x.headers().get("x-weights-version"));
                    }
                    versionsSeen.addAll(versions);
                    assertTrue(versions.size() <= 1, "a group mixed versions " + versions);
                    if (whole) complete++;
                    else refused++;
                }
                done.set(true);
                updater.get();
                assertTrue(
                        versionsSeen.size() >= 4,
                        "updates landed while the groups ran: versions " + versionsSeen + ", " + updates.get()
                                + " updates");
                // a group that spans a whole fleet update cannot be completed on its version: the lb says so (409)
                // rather than mix
                System.err.printf(
                        "version-consistent: %d of %d groups complete, %d refused with 409, %d versions, %d server updates%n",
                        complete, groups, refused, versionsSeen.size(), updates.get());
                assertTrue(
                        complete >= groups / 2,
                        complete + " of " + groups + " groups complete, " + refused + " refused with 409");
            } finally {
                done.set(true); // the updater stops whatever happened, or closing the pool would wait for it forever
            }
        }
    }

    @Test
    void aServerThatDiesMidCommitComesBackOnItsOldVersionAndGetsNoTrafficUntilItCatchesUp() throws Exception {
        Path dir = TestModels.tempDir("vc-phase2");
        Path tokenFile = Files.writeString(dir.resolve("admin.token"), TOKEN);
        Map<String, Tensor> v0 = Checkpoint.readTensors(TestModels.small()), v1 = changed(v0);
        byte[] delta = SparseDelta.between(0, v0, v1).toBytes();
        ServeProcess b = serve(dir, "b", tokenFile, 0);
        int bPort = URI.create(b.urls().get(0)).getPort();
        try (ServeProcess a = serve(dir, "a", tokenFile, 0);
                LoadBalancer lb = new LoadBalancer(LbOptions.builder()
                        .backends(List.of(a.urls().get(0), b.urls().get(0)))
                        .healthInterval(Duration.ofMillis(100))
                        .versionConsistent(true)
                        .build());
                // not the common pool: on 2 cores it has one thread, and the update would queue behind the long request
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            String aUrl = a.urls().get(0), bUrl = b.urls().get(0);
            // b holds 8 long samples, so its commit (which drains them for up to 50 s) is still running when b dies
            OpenAiClient onB = new OpenAiClient(HTTP, bUrl, null, true);
            CompletableFuture<OpenAiClient.Exchange> longOnB = CompletableFuture.supplyAsync(
                    () -> onB.post(
                            "/v1/completions",
                            Map.of(
                                    "prompt",
                                    List.of(5, 6, 7, 8),
                                    "max_tokens",
                                    1000,
                                    "n",
                                    8,
                                    "ignore_eos",
                                    true,
                                    "temperature",
                                    1.0),
                            Map.of()),
                    pool);
            assertTrue(
                    Await.until(() -> load(bUrl).path("num_running_reqs").asInt() > 0, Duration.ofSeconds(30)),
                    "b started the request");
            CompletableFuture<FleetUpdate.Outcome> update = CompletableFuture.supplyAsync(
                    () -> FleetUpdate.atomic(HTTP, List.of(aUrl, bUrl), delta, 0L, Duration.ofSeconds(50), ADMIN),
                    pool);
            assertTrue(
                    Await.until(() -> reloading(bUrl), Duration.ofSeconds(60)),
                    () -> "b is inside its commit, draining: "
                            + (update.isDone() ? update.join() : "the update still runs") + " b: " + load(bUrl)
                            + " long: " + (longOnB.isDone() ? longOnB.join().body() : "running"));
            assertTrue(
                    Await.until(() -> load(aUrl).path("weights_version").asLong() == 1, Duration.ofSeconds(60)),
                    "a committed");
            b.jvm().kill();
            FleetUpdate.Outcome o = update.get();
            assertFalse(o.committed(), "b never committed");
            assertTrue(o.reason().contains(bUrl), o.reason());
            assertNotEquals(200, longOnB.get().status());

            try (ServeProcess b2 = serve(dir, "b2", tokenFile, bPort)) {
                assertEquals(bUrl, b2.urls().get(0));
                assertEquals(0, load(bUrl).path("weights_version").asLong(), "b restarted on its old weights");
                assertTrue(
                        Await.until(
                                () -> backend(lb, bUrl).path("healthy").asBoolean(true)
                                        && backend(lb, bUrl)
                                                        .path("weights_version")
                                                        .asLong()
                                                == 0,
                                Duration.ofSeconds(10)),
                        "the lb sees b up again, on version 0: " + backend(lb, bUrl));
                OpenAiClient viaLb = new OpenAiClient(HTTP, lb.url(), null, true);
                for (int i = 0; i < 12; i++) {
                    var x = viaLb.post(
                            "/v1/completions", Map.of("prompt", List.of(5, 6, 7), "max_tokens", 2), Map.of());
                    assertEquals(200, x.status(), x.body());
                    assertEquals(
                            "1", x.headers().get("x-weights-version"), "every answer comes from the caught-up version");
                    assertNotEquals(
                            label(lb, bUrl),
                            x.headers().get("x-openai-lb-backend"),
                            "b is out of rotation while behind");
                }
                FleetUpdate.Outcome catchUp = FleetUpdate.plain(HTTP, List.of(bUrl), delta, 0L, null, ADMIN);
                assertTrue(catchUp.committed(), String.valueOf(catchUp.reason()));
                assertTrue(
                        Await.until(
                                () -> label(lb, bUrl)
                                        .equals(viaLb.post(
                                                        "/v1/completions",
                                                        Map.of("prompt", List.of(5, 6, 7), "max_tokens", 2),
                                                        Map.of())
                                                .headers()
                                                .get("x-openai-lb-backend")),
                                Duration.ofSeconds(10)),
                        "b is back in rotation once it caught up");
            }
        } finally {
            b.close();
        }
    }

    /** About 5 % of every tensor's elements moved, seeded: one training step. */
    private static Map<String, Tensor> changed(Map<String, Tensor> t) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        SplittableRandom r = new SplittableRandom(7);
        for (var e : t.entrySet()) {
            float[] d = e.getValue().data().clone();
            for (int i = 0; i < d.length; i++) if (r.nextDouble() < 0.05) d[i] += (float) (r.nextGaussian() * 0.01);
            out.put(e.getKey(), new Tensor(e.getKey(), e.getValue().shape(), d));
        }
        return out;
    }

    private static ServeProcess serve(Path dir, String name, Path tokenFile, int port) {
        return ServeProcess.start(
                List.of(
                        "--model",
                        TestModels.small().toString(),
                        "--num-servers",
                        "1",
                        "--base-port",
                        String.valueOf(port),
                        "--enable-weight-reload",
                        "--admin-token-file",
                        tokenFile.toString()),
                dir.resolve(name + ".log"),
                Duration.ofSeconds(120));
    }

    private static JsonNode load(String url) {
        return new OpenAiClient(HTTP, url, null, true).get("/get_load").json();
    }

    private static boolean reloading(String url) {
        var x = new OpenAiClient(HTTP, url, null, true).getWith("/admin/reload_status", ADMIN);
        return x.ok() && x.json().path("reloading").asBoolean();
    }

    private static JsonNode backend(LoadBalancer lb, String url) {
        for (JsonNode b : new OpenAiClient(HTTP, lb.url(), null, true)
                .get("/admin/backends")
                .json()
                .path("state")) {
            if (b.path("url").asText().equals(url)) return b;
        }
        throw new AssertionError("the lb does not list " + url);
    }

    private static String label(LoadBalancer lb, String url) {
        for (Backend b : lb.backends()) if (b.url().equals(url)) return b.label();
        throw new AssertionError("the lb does not list " + url);
    }
}
