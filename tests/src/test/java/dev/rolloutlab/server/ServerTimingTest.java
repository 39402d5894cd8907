package dev.rolloutlab.server;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.lb.LbOptions;
import dev.rolloutlab.lb.LoadBalancer;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.openai.ServerTimings;
import dev.rolloutlab.testing.TestModels;
import java.time.Duration;
import java.util.List;
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
