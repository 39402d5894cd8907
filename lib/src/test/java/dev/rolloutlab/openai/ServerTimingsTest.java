package dev.rolloutlab.openai;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.util.Json;
import org.junit.jupiter.api.Test;

/** Reading W3C Server-Timing as serve and the balancer write it, and as other servers might. */
class ServerTimingsTest {
    @Test
    void serveAndBalancerEntriesFromOneOrSeveralHeaders() {
        ServerTimings t = ServerTimings.parse(
                "queue;dur=0.250, prefill;dur=3.5, decode;dur=12.000, serialize;dur=0.040, total;dur=16.2, lb;dur=0.110");
        assertEquals(new ServerTimings(0.25, 3.5, 12.0, 0.04, 16.2, 0.11), t);
    }

    @Test
    void unknownNamesDescriptionsAndBadNumbersAreIgnored() {
        ServerTimings t = ServerTimings.parse("cache;desc=\"hit\", db;dur=53, prefill;desc=x;dur=2, decode;dur=abc");
        assertEquals(2.0, t.prefillMs());
        assertTrue(Double.isNaN(t.queueMs()) && Double.isNaN(t.decodeMs()) && Double.isNaN(t.lbMs()));
        assertEquals(ServerTimings.NONE, ServerTimings.parse(null));
    }

    @Test
    void aStreamsLastChunkFillsServesFiguresAndTheHeaderKeepsTheBalancers() throws Exception {
        ServerTimings fromChunk = ServerTimings.NONE.withStream(Json.parse(
                "{\"queue_ms\":0.5,\"prefill_ms\":4.0,\"decode_ms\":20.0,\"serialize_ms\":0.3,\"total_ms\":25.5}"));
        ServerTimings merged = fromChunk.or(ServerTimings.parse("lb;dur=0.2"));
        assertEquals(new ServerTimings(0.5, 4.0, 20.0, 0.3, 25.5, 0.2), merged);
    }
}
