package dev.rolloutlab.lb;

import dev.rolloutlab.http1.Head;

/**
 * Which headers belong to one hop and are never relayed: the fixed hop-by-hop set, the framing and host the relay
 * writes itself, and whatever a message's {@code Connection} header names (RFC 9110 §7.6.1).
 */
final class Hops {
    private Hops() {}

    /** Headers that describe one hop, plus the framing and host the relay sets itself; never copied across. */
    private static final String[] HOP_BY_HOP = {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "trailer",
        "upgrade",
        "transfer-encoding",
        "content-length",
        "host",
        "expect",
        "proxy-connection"
    };

    /** Case-insensitive membership without allocating (this runs for every header of every request and response). */
    private static boolean hopByHop(String name) {
        for (String h : HOP_BY_HOP) if (h.length() == name.length() && h.equalsIgnoreCase(name)) return true;
        return false;
    }

    private static boolean isAuthorization(String name) {
        return name.length() == 13 && name.equalsIgnoreCase("authorization");
    }

    /**
     * Whether header {@code name} of {@code h} ends at this hop; {@code connectionNames}: {@code h} has a Connection
     * header.
     */
    static boolean dropped(Head h, String name, boolean connectionNames) {
        return hopByHop(name) || connectionNames && h.namedInConnection(name);
    }

    /**
     * The request's end-to-end header lines for a backend, its Authorization line apart, ending with the blank line.
     */
    static String forwardHeaders(Head h, long contentLength, StringBuilder authorization) {
        StringBuilder sb = new StringBuilder(256);
        boolean connectionNames = h.header("Connection") != null;
        for (int i = 0; i < h.size(); i++) {
            String name = h.name(i);
            if (dropped(h, name, connectionNames)) continue;
            StringBuilder to = isAuthorization(name) ? authorization : sb;
            to.append(name).append(": ").append(h.value(i)).append("\r\n");
        }
        if (contentLength >= 0)
            sb.append("Content-Length: ").append(contentLength).append("\r\n");
        return sb.append("\r\n").toString();
    }
}
