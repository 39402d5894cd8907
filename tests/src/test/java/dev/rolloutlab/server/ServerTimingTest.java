package dev.rolloutlab.server;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.engine.model.PrefixCache;
import dev.rolloutlab.lb.LbOptions;
import dev.rolloutlab.lb.LoadBalancer;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.openai.ServerTimings;
import dev.rolloutlab.testing.TestModels;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * serve says where a request's time went (Server-Timing, or a stream's last chunk); the balancer adds its own share.
 */
class ServerTimingTest {
    static final OkHttpClient HTTP = OpenAiClient.http(8, Duration.ofSeconds(60));
    static ServerGroup group;
    static LoadBalancer lb;

    @BeforeAll
    static void start() {
        group = ServerGroup.start(ServerGroup.Spec.builder(TestModels.small())
                .servedModelName("small")
                .build());
        lb = new LoadBalancer(LbOptions.builder().backends(group.urls()).build());
    }

    @AfterAll
    static void stop() {
        lb.close();
        group.close();
    }

    /**
     * The engine's parts fit inside what the client saw; serialising a stream overlaps decoding, so it is not added
     * then.
     */
    static void assertAddsUp(OpenAiClient.Result r, boolean stream) {
        assertTrue(r.ok(), r.error());
        ServerTimings t = r.serverTimings();
        assertFalse(
                Double.isNaN(t.queueMs())
                        || Double.isNaN(t.prefillMs())
                        || Double.isNaN(t.decodeMs())
                        || Double.isNaN(t.serializeMs()),
                t.toString());
        assertTrue(t.queueMs() >= 0 && t.prefillMs() > 0 && t.decodeMs() > 0 && t.serializeMs() >= 0, t.toString());
        double e2el = (r.endNs() - r.sentNs()) / 1e6;
        double server = t.queueMs() + t.prefillMs() + t.decodeMs() + (stream ? 0 : t.serializeMs());
        assertTrue(
                server <= e2el + 0.05,
                "the server's parts (" + server + " ms) fit inside what the client saw (" + e2el + " ms)");
    }

    @Test
    void wholeAnswersCarryTheHeaderAndStreamsTheirLastChunk() {
        OpenAiClient direct = new OpenAiClient(HTTP, group.urls().get(0), null, true);
        CompletionRequest req = CompletionRequest.completion("small", new int[] {5, 6, 7, 8}, 32, 0)
                .withSampling(1, 1L, true);
        assertAddsUp(direct.complete(req), false);
        OpenAiClient.Result streamed = direct.complete(req.withStream(true, true));
        assertAddsUp(streamed, true);
        assertTrue(Double.isNaN(streamed.serverTimings().lbMs()), "no balancer on this path");
    }

    /**
     * The prefix cache's share, three ways a client may read it: Server-Timing, a stream's last chunk, and usage's
     * {@code prompt_tokens_details.cached_tokens} as OpenAI and vLLM report it.
     */
    @Test
    void aRepeatedPromptSaysHowManyOfItsTokensTheCacheServed() {
        OpenAiClient direct = new OpenAiClient(HTTP, group.urls().get(0), null, true);
        int[] prompt = new int[70];
        for (int i = 0; i < prompt.length; i++) prompt[i] = 100 + 7 * i;
        var body = Map.of("model", "small", "prompt", prompt, "max_tokens", 2, "temperature", 0);
        OpenAiClient.Exchange first = direct.post("/v1/completions", body, Map.of());
        assertEquals(
                0,
                first.json()
                        .path("usage")
                        .path("prompt_tokens_details")
                        .path("cached_tokens")
                        .asInt(-1));
        OpenAiClient.Exchange again = direct.post("/v1/completions", body, Map.of());
        int blocks = (prompt.length - 1) / PrefixCache.BLOCK;
        int cached = blocks * PrefixCache.BLOCK;
        assertEquals(
                cached,
                again.json()
                        .path("usage")
                        .path("prompt_tokens_details")
                        .path("cached_tokens")
                        .asInt(-1));
        assertEquals(70, again.json().path("usage").path("prompt_tokens").asInt());
        assertEquals(
                cached,
                ServerTimings.parse(header(again, "Server-Timing")).cachedTokens(),
                0,
                again.headers().toString());
        OpenAiClient.Result streamed = direct.complete(
                CompletionRequest.completion("small", prompt, 2, 0).withStream(true, true));
        assertTrue(streamed.ok(), streamed.error());
        assertEquals(cached, streamed.serverTimings().cachedTokens(), 0, "a stream's last chunk says it too");
    }

    private static String header(OpenAiClient.Exchange x, String name) {
        return x.headers().entrySet().stream()
                .filter(e -> e.getKey().equalsIgnoreCase(name))
                .map(Map.Entry::getValue)
                .findFirst()
                .orElse(null);
    }

    @Test
    void theBalancerAddsItsOwnEntry() {
        OpenAiClient viaLb = new OpenAiClient(HTTP, lb.url(), null, true);
        for (boolean stream : List.of(false, true)) {
            OpenAiClient.Result r = viaLb.complete(CompletionRequest.completion("small", new int[] {5, 6, 7, 8}, 32, 0)
                    .withSampling(1, 1L, true)
                    .withStream(stream, stream));
            assertAddsUp(r, stream);
            double lbMs = r.serverTimings().lbMs();
            assertTrue(lbMs >= 0 && lbMs < (r.endNs() - r.sentNs()) / 1e6, "lb;dur=" + lbMs);
        }
    }
}
