package dev.rolloutlab.lb;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.http1.Head;
import dev.rolloutlab.http1.HttpIn;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What the relay forwards of a request's headers. */
class HopsTest {
    static Head head(String raw) throws Exception {
        return new HttpIn(new ByteArrayInputStream(raw.getBytes(StandardCharsets.ISO_8859_1))).readHead(true);
    }

    @Test
    void headersTheConnectionHeaderNamesStayOnTheirHop() throws Exception {
        Head h = head(
                "POST /v1 HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\nX-Group-Id: g\r\n"
                        + "Authorization: Bearer k\r\nContent-Length: 2\r\n\r\n");
        StringBuilder auth = new StringBuilder();
        String forwarded = Hops.forwardHeaders(h, 2, auth);
        assertEquals("X-Group-Id: g\r\nContent-Length: 2\r\n\r\n", forwarded);
        assertEquals("Authorization: Bearer k\r\n", auth.toString());
    }
}
