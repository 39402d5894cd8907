package dev.rolloutlab.http1;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The codec's framing decisions, one row per case: lengths, transfer codings, folding, oversized heads, chunked bodies.
 */
class HttpInTest {

    static HttpIn in(String raw) {
        return new HttpIn(new ByteArrayInputStream(raw.getBytes(StandardCharsets.ISO_8859_1)));
    }

    /** The request body as text, or the ProtocolException's message prefixed with "refused: ". */
    static String body(String headers, String rest) {
        try {
            HttpIn in = in("POST /x HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n" + rest);
            Head h = in.readHead(true);
            return new String(in.requestBody(h).readAll(1 << 20), StandardCharsets.ISO_8859_1);
        } catch (ProtocolException e) {
            return "refused: " + e.getMessage();
        } catch (IOException e) {
            return "io: " + e.getMessage();
        }
    }

    static Stream<Arguments> framing() {
        return Stream.of(
                Arguments.of("Content-Length: 5\r\n", "hello", "hello"),
                Arguments.of("Content-Length: 5\r\nContent-Length: 5\r\n", "hello", "hello"),
                Arguments.of("Content-Length: 5, 5\r\n", "hello", "hello"),
                Arguments.of(
                        "Content-Length: 5\r\nContent-Length: 4\r\n",
                        "hello",
                        "refused: conflicting Content-Length values: 5 and 4"),
                Arguments.of(
                        "Content-Length: 5, 6\r\n", "hello", "refused: conflicting Content-Length values: 5 and 6"),
                Arguments.of("Content-Length: abc\r\n", "hello", "refused: bad Content-Length: abc"),
                Arguments.of("Content-Length: -1\r\n", "hello", "refused: bad Content-Length: -1"),
                Arguments.of("Content-Length: +5\r\n", "hello", "refused: bad Content-Length: +5"),
                Arguments.of(
                        "Content-Length: 99999999999999999999\r\n",
                        "",
                        "refused: bad Content-Length: 99999999999999999999"),
                Arguments.of("Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n", "hello"),
                Arguments.of("Transfer-Encoding: CHUNKED\r\n", "5\r\nhello\r\n0\r\n\r\n", "hello"),
                Arguments.of("Transfer-Encoding: gzip, chunked\r\n", "5\r\nhello\r\n0\r\n\r\n", "hello"),
                Arguments.of("Transfer-Encoding: chunked\r\n", "5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n", "hello"),
                // both framings: refused, so no reader downstream can take the other one and read a smuggled request
                Arguments.of(
                        "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
                        "5\r\nhello\r\n0\r\n\r\n",
                        "refused: both Transfer-Encoding and Content-Length"),
                Arguments.of(
                        "Transfer-Encoding: chunked\r\n", "+5\r\nhello\r\n0\r\n\r\n", "refused: bad chunk size: +5"),
                Arguments.of("Transfer-Encoding: chunked\r\n", "-0\r\n\r\n", "refused: bad chunk size: -0"),
                Arguments.of(
                        "Transfer-Encoding: chunked\r\n", "0x5\r\nhello\r\n0\r\n\r\n", "refused: bad chunk size: 0x5"),
                Arguments.of(
                        "Transfer-Encoding: chunked\r\n",
                        "ffffffffffffffff\r\n",
                        "refused: bad chunk size: ffffffffffffffff"),
                Arguments.of("Transfer-Encoding: chunked\r\n", "5 \r\nhello\r\n0\r\n\r\n", "hello"),
                Arguments.of(
                        "Transfer-Encoding: xchunked\r\n",
                        "5\r\nhello\r\n0\r\n\r\n",
                        "refused: unsupported Transfer-Encoding: xchunked"),
                Arguments.of(
                        "Transfer-Encoding: chunked, gzip\r\n",
                        "x",
                        "refused: unsupported Transfer-Encoding: chunked, gzip"),
                Arguments.of(
                        "Transfer-Encoding: chunkedx\r\n", "x", "refused: unsupported Transfer-Encoding: chunkedx"),
                Arguments.of("", "", ""));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("framing")
    void framingOfRequestBodies(String headers, String rest, String expected) {
        assertEquals(expected, body(headers, rest));
    }

    static Stream<Arguments> malformedHeads() {
        return Stream.of(
                Arguments.of(
                        "POST /v1 HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n",
                        "whitespace between a header name and its colon"),
                Arguments.of("POST /v1 HTTP/1.1\r\nX-A: a\rb\r\n\r\n", "control byte 0xd in a header value"),
                Arguments.of("POST /v1 HTTP/1.1\r\nX-A: a\u0000b\r\n\r\n", "control byte 0x0 in a header value"),
                Arguments.of("POST /v1 HTTP/1.1\r\nX(A): 1\r\n\r\n", "bad byte 0x28 in a header name"),
                Arguments.of("POST /v1 x HTTP/1.1\r\n\r\n", "bad request line: expected METHOD TARGET HTTP/1.x"),
                Arguments.of("POST /v1\rx HTTP/1.1\r\n\r\n", "bad request line: control byte 0xd"),
                Arguments.of("POST  /v1 HTTP/1.1\r\n\r\n", "bad request line: more than one space between its parts"));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @MethodSource("malformedHeads")
    void malformedRequestHeadsAreRefusedNotRepaired(String head, String why) {
        var e = assertThrows(ProtocolException.class, () -> in(head).readHead(true));
        assertEquals(why, e.getMessage());
    }

    @Test
    void headersNamedInConnectionAreKnownAsHopByHop() throws Exception {
        Head h = in("GET / HTTP/1.1\r\nConnection: keep-alive, X-Secret-Hop\r\nX-Secret-Hop: 1\r\nX-Kept: 2\r\n\r\n")
                .readHead(true);
        assertTrue(h.namedInConnection("x-secret-hop"));
        assertFalse(h.namedInConnection("X-Kept"));
    }

    @Test
    void aDeclaredLengthReservesNothingBeforeItsBytesArrive() throws Exception {
        long[] taken = {0};
        HttpIn r = in("POST / HTTP/1.1\r\nContent-Length: 8000000\r\n\r\nabc");
        HttpIn.Body b = r.requestBody(r.readHead(true));
        assertThrows(EOFException.class, () -> b.readAll(8 << 20, bytes -> taken[0] += bytes));
        assertEquals(64 << 10, taken[0], "one first buffer for three bytes, not the 8 MB declared");
    }

    @Test
    void obsoleteLineFoldingIsRefused() {
        var e = assertThrows(
                ProtocolException.class,
                () -> in("GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n").readHead(true));
        assertEquals("obsolete header line folding", e.getMessage());
    }

    @Test
    void aHeadLargerThanTheLimitIsRefusedNotBuffered() {
        String big = "GET / HTTP/1.1\r\nX-Big: " + "a".repeat(HttpIn.MAX_HEAD + 10) + "\r\n\r\n";
        var e = assertThrows(ProtocolException.class, () -> in(big).readHead(true));
        assertTrue(e.getMessage().startsWith("head larger than"), e.getMessage());
    }

    @Test
    void pipelinedHeadsAreReadOneAfterAnother() throws IOException {
        HttpIn in = in("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.0\r\n\r\n");
        Head a = in.readHead(true);
        assertEquals("/a", a.target());
        assertTrue(a.keepAlive());
        assertTrue(in.buffered(), "the second request is already buffered");
        Head b = in.readHead(true);
        assertEquals("/b", b.target());
        assertFalse(b.keepAlive(), "HTTP/1.0 without keep-alive closes");
        assertNull(in.readHead(true), "a clean end of stream between requests");
    }

    @Test
    void aResponseWithoutFramingIsReadUntilClose() throws IOException {
        HttpIn in = in("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it");
        Head h = in.readHead(false);
        HttpIn.Body b = in.responseBody(h, "GET");
        assertTrue(b.untilClose());
        assertEquals("all of it", new String(b.readAll(100), StandardCharsets.ISO_8859_1));
        assertEquals(
                0,
                in.responseBody(in("HTTP/1.1 204 No Content\r\n\r\n").readHead(false), "GET")
                        .length());
    }
}
