package dev.rolloutlab.openai;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.Engine;
import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.SamplingParams;
import dev.rolloutlab.engine.TokenListener;
import dev.rolloutlab.server.ServerGroup;
import dev.rolloutlab.testing.TestModels;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The same seeded request through the in-process engine and through a server gives the same tokens and logprobs. */
class HttpEngineTest {
    @Test
    void inProcessAndHttpEnginesAgreeOnTheSameModelAndSeed() {
        try (ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                        .engines(ServerGroup.Engines.SHARED)
                        .servedModelName("tiny")
                        .idleTimeout(Duration.ofSeconds(30))
                        .build());
                Engine local = InProcessEngine.open(TestModels.tiny());
                Engine remote = new HttpEngine(g.urls().get(0), null, "tiny")) {
            GenerationRequest req = new GenerationRequest(
                    new int[] {11, 42, 99, 7, 300},
                    3,
                    SamplingParams.of(20, 1.0, 1234L).withIgnoreEos(true));
            Completion a = local.generate(req);
            AtomicInteger streamed = new AtomicInteger();
            Completion b = remote.submit(req, (s, id, lp, v, t) -> streamed.incrementAndGet())
                    .join();
            assertEquals(60, streamed.get(), "every token reached the listener as it streamed");
            assertEquals(a.promptTokens(), b.promptTokens());
            assertEquals(3, b.samples().size());
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(
                        a.samples().get(i).tokenIds(), b.samples().get(i).tokenIds(), "sample " + i);
                assertArrayEquals(
                        a.samples().get(i).logprobs(), b.samples().get(i).logprobs(), 1e-5f, "sample " + i);
                assertEquals(a.samples().get(i).text(), b.samples().get(i).text());
                assertEquals(0, b.samples().get(i).minVersion());
            }
            assertEquals(remote.name(), g.urls().get(0));
            var bad = remote.submit(
                    new GenerationRequest(new int[] {1}, 1, SamplingParams.greedy(100000)), TokenListener.NONE);
            var e = assertThrows(CompletionException.class, bad::join);
            assertTrue(
                    e.getCause().getMessage().contains("HTTP 400"), e.getCause().getMessage());
        }
    }

    @Test
    void eachTokenCarriesTheVersionItWasSampledUnderAcrossAnUpdateMidStream() {
        try (ServerGroup g = ServerGroup.start(ServerGroup.Spec.builder(TestModels.tiny())
                        .servedModelName("tiny")
                        .weightAdmin("tok")
                        // 5 ms per step keeps the 380 steps after the update's trigger ~1.9 s long: the margin
                        // by which the update (milliseconds on tiny) must land before the stream ends
                        .testDelays(new ServerGroup.TestDelays(Duration.ZERO, Duration.ofMillis(5)))
                        .build());
                Engine remote = new HttpEngine(g.urls().get(0), null, "tiny")) {
            OpenAiClient admin = new OpenAiClient(
                    OpenAiClient.http(2, Duration.ofSeconds(30)), g.urls().get(0), null, true);
            AtomicInteger seen = new AtomicInteger();
            // the 20th token to arrive triggers an update while the server keeps generating
            Completion c = remote.submit(
                            new GenerationRequest(
                                    new int[] {5, 6, 7},
                                    1,
                                    SamplingParams.of(400, 1.0, 3L).withIgnoreEos(true)),
                            (s, id, lp, v, t) -> {
                                if (seen.incrementAndGet() == 20)
                                    assertEquals(
                                            200,
                                            admin.post(
                                                            "/admin/perturb_weights",
                                                            Map.of("seed", 1),
                                                            Map.of("X-Admin-Token", "tok"))
                                                    .status());
                            })
                    .join();
            long[] v = c.samples().get(0).versions();
            assertEquals(400, v.length);
            assertEquals(0, v[0]);
            assertEquals(1, v[v.length - 1], "tokens after the update carry its version");
            for (int i = 1; i < v.length; i++) assertTrue(v[i] >= v[i - 1], "versions never go back");
        }
    }
}
