package dev.rolloutlab.lb;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.engine.model.PrefixCache;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.TestModels;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * GRPO groups through the balancer onto four real engines with prefix caches: round robin scatters a group and each
 * backend computes its prompt, cache-aware and sticky routing keep it on one backend, which computes it once. The
 * prefill tokens computed are read from what the servers said ({@code usage.prompt_tokens_details.cached_tokens}).
 */
class PrefixRoutingTest {
    private static final OkHttpClient HTTP = OpenAiClient.http(16, Duration.ofSeconds(60));
    private static final int GROUP = 8, PROMPT = 200, GROUPS = 3;
    /** What a hit leaves to compute: the tokens past the last whole block before the prompt's last token. */
    private static final int SUFFIX = PROMPT - (PROMPT - 1) / PrefixCache.BLOCK * PrefixCache.BLOCK;

    private static ServerGroup servers;
    private static ExecutorService pool;
    private static long seed = 1;

    @BeforeAll
    static void start() {
        servers = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                .ports(List.of(0, 0, 0, 0))
                .servedModelName("tiny")
                .build());
        pool = Executors.newFixedThreadPool(GROUP);
    }

    @AfterAll
    static void stop() {
        pool.shutdownNow();
        servers.close();
    }

    @Test
    void roundRobinComputesAGroupsPromptOnEveryBackendItReaches() {
        assertEquals(GROUPS * (4 * PROMPT + 4 * SUFFIX), computed("round-robin", servers.urls(), false));
    }

    @Test
    void cacheAwareRoutingComputesItOncePerGroup() {
        assertEquals(GROUPS * (PROMPT + (GROUP - 1) * SUFFIX), computed("cache-aware", servers.urls(), false));
    }

    @Test
    void stickyRoutingOnTheGroupIdComputesItOncePerGroup() {
        assertEquals(GROUPS * (PROMPT + (GROUP - 1) * SUFFIX), computed("sticky", servers.urls(), true));
    }

    /**
     * A backend that refuses connections: the keys and prefixes that map to it fail over, and every request is served.
     */
    @Test
    void bothFailOverWhenTheirBackendIsDown() throws Exception {
        List<String> withDead = new ArrayList<>(servers.urls());
        try (var closed = new java.net.ServerSocket(0)) {
            withDead.add(0, "http://127.0.0.1:" + closed.getLocalPort());
        } // closed: nothing listens there now
        for (String policy : List.of("cache-aware", "sticky")) computed(policy, withDead, true);
    }

    /**
     * Sends {@link #GROUPS} groups of {@link #GROUP} identical prompts, each group's requests at once, through a new
     * balancer with {@code policy}; returns the prompt tokens the engines computed (prompt minus cached).
     */
    private static int computed(String policy, List<String> backends, boolean groupIds) {
        try (LoadBalancer lb = new LoadBalancer(LbOptions.builder()
                .backends(backends)
                .policy(Policy.parse(policy))
                .build())) {
            OpenAiClient c = new OpenAiClient(HTTP, lb.url(), null, true);
            int total = 0;
            for (int g = 0; g < GROUPS; g++) {
                int[] prompt = prompt(seed++);
                Map<String, String> headers = groupIds ? Map.of("X-Group-Id", policy + "-" + g) : Map.of();
                List<CompletableFuture<OpenAiClient.Exchange>> sent = new ArrayList<>();
                for (int i = 0; i < GROUP; i++)
                    sent.add(CompletableFuture.supplyAsync(
                            () -> c.post(
                                    "/v1/completions",
                                    Map.of("model", "tiny", "prompt", prompt, "max_tokens", 4, "temperature", 0),
                                    headers),
                            pool));
                for (var f : sent) {
                    OpenAiClient.Exchange x = f.join();
                    assertEquals(200, x.status(), policy + ": " + x.body());
                    var usage = x.json().path("usage");
                    total += usage.path("prompt_tokens").asInt()
                            - usage.path("prompt_tokens_details")
                                    .path("cached_tokens")
                                    .asInt();
                }
            }
            String metrics = c.get("/metrics").body();
            System.err.println(policy + ": " + total + " prompt tokens computed; "
                    + metrics.lines()
                            .filter(l -> l.startsWith("lb_routed")
                                    || l.startsWith("lb_affinity")
                                    || l.startsWith("lb_prefix"))
                            .toList());
            if (policy.equals("cache-aware")) assertTrue(metrics.contains("lb_routed_by_prefix_total "), metrics);
            if (policy.equals("sticky")) assertTrue(metrics.contains("lb_affinity_routed_total "), metrics);
            return total;
        }
    }

    private static int[] prompt(long s) {
        SplittableRandom r = new SplittableRandom(s * 7919);
        int[] p = new int[PROMPT];
        for (int i = 0; i < p.length; i++) p[i] = 10 + r.nextInt(900);
        return p;
    }
}
