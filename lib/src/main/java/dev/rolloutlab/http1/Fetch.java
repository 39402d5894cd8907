package dev.rolloutlab.http1;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One small control-plane request on a fresh connection, over the same codec as the hot paths: health probes, load
 * reports, registry reads, forwarded aborts. The body is bounded, and the connect and every read are bounded by one
 * timeout.
 */
public final class Fetch {
    private Fetch() {}

    /** A status and a body read to its end. */
    public record Response(int status, byte[] body) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** GETs {@code url} ({@code http://host:port/path}); {@code bearer} may be null. */
    public static Response get(String url, String bearer, Duration timeout, int maxBody) throws IOException {
        return send(
                "GET", url, bearer == null ? null : "Authorization: Bearer " + bearer + "\r\n", null, timeout, maxBody);
    }

    /** POSTs a JSON body; {@code authorizationLine} is a whole {@code Authorization: …\r\n} line, or null. */
    public static Response postJson(String url, String authorizationLine, byte[] json, Duration timeout, int maxBody)
            throws IOException {
        return send("POST", url, authorizationLine, json, timeout, maxBody);
    }

    private static Response send(
            String method, String url, String authorizationLine, byte[] body, Duration timeout, int maxBody)
            throws IOException {
        URI u;
        try {
            u = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IOException("bad URL " + url + ": " + e.getMessage());
        }
        if (u.getHost() == null) throw new IOException("bad URL " + url + ": no host");
        boolean tls = "https".equals(u.getScheme());
        int port = u.getPort() > 0 ? u.getPort() : tls ? 443 : 80;
        String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
        if (u.getRawQuery() != null) path += "?" + u.getRawQuery();
        int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        try (Http1Connection c = Http1Connection.open(u.getHost(), port, tls, ms, ms)) {
            StringBuilder head = new StringBuilder(128)
                    .append(method)
                    .append(' ')
                    .append(path)
                    .append(" HTTP/1.1\r\nHost: ")
                    .append(u.getHost())
                    .append(':')
                    .append(port)
                    .append("\r\nConnection: close\r\n");
            if (authorizationLine != null) head.append(authorizationLine);
            if (body != null)
                head.append("Content-Type: application/json\r\nContent-Length: ")
                        .append(body.length)
                        .append("\r\n");
            c.send(
                    head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1),
                    body,
                    body == null ? 0 : body.length);
            Head h = c.readResponse();
            return new Response(h.status(), c.in().responseBody(h, method).readAll(maxBody));
        }
    }
}
