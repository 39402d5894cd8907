package dev.rolloutlab.http1;

import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/** The head of one HTTP/1.x request or response: start line and header fields in wire order. */
public final class Head {
    private final String method;
    private final String target;
    private final int status;
    private final String reason;
    private final boolean http10;
    private final String[] fields;
    private final int count;

    private Head(String method, String target, int status, String reason, boolean http10, String[] fields, int count) {
        this.method = method;
        this.target = target;
        this.status = status;
        this.reason = reason;
        this.http10 = http10;
        this.fields = fields;
        this.count = count;
    }

    /** Request method, or null for a response. */
    public String method() {
        return method;
    }

    /** Request target (path and query), or null for a response. */
    public String target() {
        return target;
    }

    /** Response status, or 0 for a request. */
    public int status() {
        return status;
    }

    public String reason() {
        return reason;
    }

    public boolean http10() {
        return http10;
    }

    public int size() {
        return count;
    }

    public String name(int i) {
        return fields[2 * i];
    }

    public String value(int i) {
        return fields[2 * i + 1];
    }

    /** The first value of a header, matched case-insensitively, or null. */
    public String header(String name) {
        for (int i = 0; i < count; i++) if (fields[2 * i].equalsIgnoreCase(name)) return fields[2 * i + 1];
        return null;
    }

    /** Every value of a header that may repeat, joined with ", " (how HTTP combines repeated fields), or null. */
    public String headers(String name) {
        String all = null;
        for (int i = 0; i < count; i++) {
            if (fields[2 * i].equalsIgnoreCase(name))
                all = all == null ? fields[2 * i + 1] : all + ", " + fields[2 * i + 1];
        }
        return all;
    }

    /**
     * {@code Content-Length}, or -1 when absent. Repeated or comma-listed values must agree (RFC 9112 §6.3): two
     * different lengths are how requests are smuggled past a proxy, so they are refused.
     */
    public long contentLength() throws ProtocolException {
        long n = -1;
        for (int i = 0; i < count; i++) {
            if (!fields[2 * i].equalsIgnoreCase("Content-Length")) continue;
            String v = fields[2 * i + 1];
            // parsed by hand, without splitting: this runs for every response on the relay and the generator
            int p = 0, len = v.length();
            while (p <= len) {
                int end = v.indexOf(',', p);
                if (end < 0) end = len;
                int a = p, b = end;
                while (a < b && (v.charAt(a) == ' ' || v.charAt(a) == '\t')) a++;
                while (b > a && (v.charAt(b - 1) == ' ' || v.charAt(b - 1) == '\t')) b--;
                if (a == b || b - a > 18) throw new ProtocolException("bad Content-Length: " + v);
                long x = 0;
                for (int k = a; k < b; k++) {
                    char c = v.charAt(k);
                    if (c < '0' || c > '9') throw new ProtocolException("bad Content-Length: " + v);
                    x = x * 10 + (c - '0');
                }
                if (n >= 0 && x != n)
                    throw new ProtocolException("conflicting Content-Length values: " + n + " and " + x);
                n = x;
                p = end + 1;
            }
        }
        return n;
    }

    /**
     * Whether the body is chunked: the last transfer coding is exactly {@code chunked} (not a substring of another).
     */
    public boolean chunked() {
        String v = header("Transfer-Encoding");
        if (v == null) return false;
        String[] codings = v.split(",");
        return codings[codings.length - 1].trim().equalsIgnoreCase("chunked");
    }

    /**
     * Whether the connection stays open after this message (HTTP/1.1 unless {@code close}; 1.0 only with keep-alive).
     */
    public boolean keepAlive() {
        String c = header("Connection");
        if (c == null) return !http10;
        String l = c.toLowerCase(Locale.ROOT);
        return http10 ? l.contains("keep-alive") : !l.contains("close");
    }

    /** Parses {@code b[off, end)}, which holds a whole head up to and including its blank line. */
    static Head parse(byte[] b, int off, int end, boolean request) throws ProtocolException {
        String[] fields = new String[16];
        int count = 0;
        int lineStart = off;
        String first = null;
        while (lineStart < end) {
            int nl = lineStart;
            while (nl < end && b[nl] != '\n') nl++;
            int lineEnd = nl > lineStart && b[nl - 1] == '\r' ? nl - 1 : nl;
            if (lineEnd == lineStart) {
                if (first == null) { // tolerate blank lines before a request line (RFC 9112 §2.2)
                    lineStart = nl + 1;
                    continue;
                }
                break;
            }
            if (first == null) {
                if (request) checkRequestLine(b, lineStart, lineEnd);
                first = new String(b, lineStart, lineEnd - lineStart, StandardCharsets.ISO_8859_1);
            } else {
                if (b[lineStart] == ' ' || b[lineStart] == '\t')
                    throw new ProtocolException("obsolete header line folding");
                int colon = lineStart;
                while (colon < lineEnd && b[colon] != ':') colon++;
                if (colon == lineEnd || colon == lineStart) {
                    throw new ProtocolException("bad header line: "
                            + new String(b, lineStart, lineEnd - lineStart, StandardCharsets.ISO_8859_1));
                }
                if (request) checkField(b, lineStart, colon, lineEnd);
                int vs = colon + 1, ve = lineEnd;
                while (vs < ve && (b[vs] == ' ' || b[vs] == '\t')) vs++;
                while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) ve--;
                if (2 * count + 2 > fields.length) fields = Arrays.copyOf(fields, fields.length * 2);
                fields[2 * count] = new String(b, lineStart, colon - lineStart, StandardCharsets.ISO_8859_1);
                fields[2 * count + 1] = new String(b, vs, ve - vs, StandardCharsets.ISO_8859_1);
                count++;
            }
            lineStart = nl + 1;
        }
        if (first == null) throw new ProtocolException("empty head");
        return request ? requestLine(first, fields, count) : statusLine(first, fields, count);
    }

    /**
     * A request line must be method, target and version split by single spaces, with no control bytes anywhere: a
     * target with a space or CR in it reads differently to a lenient backend (RFC 9112 §3).
     */
    private static void checkRequestLine(byte[] b, int from, int to) throws ProtocolException {
        int spaces = 0;
        for (int i = from; i < to; i++) {
            int c = b[i] & 0xff;
            if (c == ' ') {
                spaces++;
                if (i == from || b[i - 1] == ' ')
                    throw new ProtocolException("bad request line: more than one space between its parts");
            } else if (c < 0x21 || c == 0x7f) {
                throw new ProtocolException("bad request line: control byte 0x" + Integer.toHexString(c));
            }
        }
        if (spaces != 2) throw new ProtocolException("bad request line: expected METHOD TARGET HTTP/1.x");
    }

    /**
     * A request header's name must be a token (so no space before its colon) and its value free of control bytes but
     * tab (so no bare CR or NUL): RFC 9112 §5.1 and §2.2 have a server refuse, not repair, either.
     */
    private static void checkField(byte[] b, int from, int colon, int to) throws ProtocolException {
        for (int i = from; i < colon; i++) {
            if (!TCHAR[b[i] & 0xff]) {
                throw new ProtocolException(
                        b[i] == ' ' || b[i] == '\t'
                                ? "whitespace between a header name and its colon"
                                : "bad byte 0x" + Integer.toHexString(b[i] & 0xff) + " in a header name");
            }
        }
        for (int i = colon + 1; i < to; i++) {
            int c = b[i] & 0xff;
            if (c < 0x20 && c != '\t' || c == 0x7f)
                throw new ProtocolException("control byte 0x" + Integer.toHexString(c) + " in a header value");
        }
    }

    private static final boolean[] TCHAR = new boolean[256];

    static {
        for (char c = '0'; c <= '9'; c++) TCHAR[c] = true;
        for (char c = 'a'; c <= 'z'; c++) TCHAR[c] = true;
        for (char c = 'A'; c <= 'Z'; c++) TCHAR[c] = true;
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) TCHAR[c] = true;
    }

    /** Whether {@code name} is listed in this message's {@code Connection} header: a hop-by-hop header to drop. */
    public boolean namedInConnection(String name) {
        for (int i = 0; i < count; i++) {
            if (!fields[2 * i].equalsIgnoreCase("Connection")) continue;
            String v = fields[2 * i + 1];
            int p = 0;
            while (p < v.length()) {
                int end = v.indexOf(',', p);
                if (end < 0) end = v.length();
                int a = p, z = end;
                while (a < z && v.charAt(a) == ' ') a++;
                while (z > a && v.charAt(z - 1) == ' ') z--;
                if (z - a == name.length() && v.regionMatches(true, a, name, 0, name.length())) return true;
                p = end + 1;
            }
        }
        return false;
    }

    private static Head requestLine(String line, String[] fields, int count) throws ProtocolException {
        int a = line.indexOf(' '), z = line.lastIndexOf(' ');
        if (a <= 0 || z <= a) throw new ProtocolException("bad request line: " + line);
        String version = line.substring(z + 1);
        if (!version.startsWith("HTTP/1.")) throw new ProtocolException("unsupported protocol: " + line);
        return new Head(
                line.substring(0, a), line.substring(a + 1, z), 0, null, version.equals("HTTP/1.0"), fields, count);
    }

    private static Head statusLine(String line, String[] fields, int count) throws ProtocolException {
        if (!line.startsWith("HTTP/1.") || line.length() < 12 || line.charAt(8) != ' ')
            throw new ProtocolException("not an HTTP/1.x response: " + line);
        int status;
        try {
            status = Integer.parseInt(line.substring(9, 12));
        } catch (NumberFormatException e) {
            throw new ProtocolException("bad status line: " + line);
        }
        String reason = line.length() > 13 ? line.substring(13) : "";
        return new Head(null, null, status, reason, line.startsWith("HTTP/1.0"), fields, count);
    }
}
