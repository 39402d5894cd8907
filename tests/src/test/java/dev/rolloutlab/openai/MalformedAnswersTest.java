package dev.rolloutlab.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rolloutlab.testing.MalformedAnswersFixture;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A server that answers with something other than a completion makes a failed request that says what came, and keeps
 * what arrived before it: a measurement never throws, and never counts such an answer as a completion.
 */
class MalformedAnswersTest {
    private static MalformedAnswersFixture server;

    @BeforeAll
    static void start() {
        server = new MalformedAnswersFixture();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static OpenAiClient.Result send(String prefix, boolean stream) {
        var client = new OpenAiClient(OpenAiClient.http(2, Duration.ofSeconds(10)), server.url(prefix), null, true);
        return client.complete(
                CompletionRequest.completion("m", new int[] {5, 6}, 4, 0).withStream(stream, true));
    }

    @Test
    void aStreamThatBreaksKeepsTheTokensBeforeTheBadEvent() {
        OpenAiClient.Result r = send("/bad-sse", true);
        assertFalse(r.ok());
        assertEquals(200, r.status());
        assertTrue(r.error().startsWith("bad SSE data: {\"choices\""), r.error());
        assertEquals(1, r.chunkNs().length, "the token before the bad event");
        assertEquals("x", r.text());
        assertTrue(r.firstTokenNs() > 0, "its time to the first token stays");
    }

    @Test
    void aBodyThatIsNotACompletionSaysWhatCame() {
        OpenAiClient.Result page = send("/not-json", false);
        assertFalse(page.ok());
        assertEquals("not an OpenAI response: <html>502 Bad Gateway</html>", page.error());
        OpenAiClient.Result empty = send("/no-choices", false);
        assertFalse(empty.ok());
        assertEquals("response has no choices", empty.error());
        assertEquals(-1, empty.firstTokenNs());
    }

    @Test
    void anErrorStatusKeepsItsStatusAndBody() {
        OpenAiClient.Result r = send("/busy", true);
        assertEquals(503, r.status());
        assertFalse(r.ok());
        assertEquals("HTTP 503: {\"error\":{\"message\":\"overloaded\"}}", r.error());
        assertEquals(0, r.chunkNs().length);
    }
}
