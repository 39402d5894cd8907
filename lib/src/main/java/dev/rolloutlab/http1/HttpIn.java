package dev.rolloutlab.http1;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.util.Arrays;

/**
 * Buffered reads of HTTP/1.x messages from one connection: heads, then bodies decoded by their framing (Content-Length,
 * chunked, or until the connection closes). Not thread-safe; one reader per connection.
 */
public final class HttpIn {
    static final int MAX_HEAD = 64 * 1024;

    private final InputStream in;
    private final ReadPace pace;
    private byte[] buf = new byte[8 * 1024];
    private int pos;
    private int lim;
    private long bytesRead;

    public HttpIn(InputStream in) {
        this(in, ReadPace.NONE);
    }

    /** A reader that asks {@code pace} before each blocking read (a server's header and body deadlines). */
    public HttpIn(InputStream in, ReadPace pace) {
        this.in = in;
        this.pace = pace;
    }

    /** Every blocking read goes through here, so the pace sees each one. */
    private int read(byte[] b, int off, int len, boolean midMessage) throws IOException {
        pace.beforeRead(midMessage, bytesRead);
        int n = in.read(b, off, len);
        if (n > 0) bytesRead += n;
        return n;
    }

    /** Whether bytes of a next message are already buffered (a pipelining client, or a misbehaving server). */
    public boolean buffered() {
        return pos < lim;
    }

    /**
     * Reads the next head, or returns null when the stream ends cleanly before its first byte (an idle keep-alive
     * connection closed by the peer).
     */
    public Head readHead(boolean request) throws IOException {
        int scan = pos;
        while (true) {
            int end = headEnd(scan);
            if (end >= 0) {
                Head h = Head.parse(buf, pos, end, request);
                pos = end;
                return h;
            }
            if (lim - pos >= MAX_HEAD) throw new ProtocolException("head larger than " + MAX_HEAD + " bytes");
            scan = Math.max(pos, lim - 3);
            int shift = makeRoom();
            scan -= shift;
            int n = read(buf, lim, buf.length - lim, lim > pos);
            if (n < 0) {
                if (lim == pos) return null;
                throw new EOFException("connection closed in the middle of a head");
            }
            lim += n;
        }
    }

    private int headEnd(int from) {
        for (int i = from; i < lim; i++) {
            if (buf[i] != '\n') continue;
            if (i == pos) continue; // a leading bare LF is tolerated like a blank line
            if (i + 1 < lim && buf[i + 1] == '\n') return i + 2;
            if (i + 2 < lim && buf[i + 1] == '\r' && buf[i + 2] == '\n') return i + 3;
        }
        return -1;
    }

    /** Moves unread bytes to the front (or grows the buffer) so a read has room; returns how far they moved. */
    private int makeRoom() {
        if (lim < buf.length) return 0;
        int shift = pos;
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, lim - pos);
            lim -= pos;
            pos = 0;
        }
        if (lim == buf.length) buf = Arrays.copyOf(buf, Math.min(buf.length * 2, MAX_HEAD + 1024));
        return shift;
    }

    /**
     * One read of whatever has arrived, kept in the buffer for the next message: how a proxy waiting on its upstream
     * notices its client hang up (-1) without losing a pipelined request. Returns the bytes read, -1 at end of stream.
     */
    public int fill() throws IOException {
        if (lim == buf.length) makeRoom();
        if (lim == buf.length) return 0; // a full buffer is a next message waiting, not a hang-up
        int n = in.read(buf, lim, buf.length - lim);
        if (n > 0) lim += n;
        return n;
    }

    /** Reads up to {@code len} raw bytes: buffered ones first, else one read from the stream. -1 at its end. */
    int readRaw(byte[] b, int off, int len) throws IOException {
        if (pos < lim) {
            int n = Math.min(len, lim - pos);
            System.arraycopy(buf, pos, b, off, n);
            pos += n;
            return n;
        }
        if (len >= buf.length) return read(b, off, len, true);
        pos = lim = 0;
        int n = read(buf, 0, buf.length, true);
        if (n <= 0) return n;
        lim = n;
        return readRaw(b, off, len);
    }

    /** Reads one line (without its CR LF) for chunk sizes and trailers, up to 4 KiB. */
    String readLine() throws IOException {
        int scan = pos;
        while (true) {
            for (int i = scan; i < lim; i++) {
                if (buf[i] == '\n') {
                    int e = i > pos && buf[i - 1] == '\r' ? i - 1 : i;
                    String s = new String(buf, pos, e - pos, java.nio.charset.StandardCharsets.ISO_8859_1);
                    pos = i + 1;
                    return s;
                }
            }
            if (lim - pos > 4096) throw new ProtocolException("line longer than 4 KiB in a chunked body");
            scan = lim;
            scan -= makeRoom();
            int n = read(buf, lim, buf.length - lim, true);
            if (n < 0) throw new EOFException("connection closed inside a chunked body");
            lim += n;
        }
    }

    /** A body of {@code length} bytes (-1: none given), chunked, or read until close when {@code untilClose}. */
    public Body body(long length, boolean chunked, boolean untilClose) {
        if (chunked) return new Body(this, Body.CHUNKED, 0);
        if (length >= 0) return new Body(this, Body.FIXED, length);
        return new Body(this, untilClose ? Body.UNTIL_CLOSE : Body.FIXED, 0);
    }

    /** The body of a request with this head (requests without framing have none). */
    public Body requestBody(Head h) throws ProtocolException {
        // a request's length must be knowable: any other transfer coding as the last one cannot be framed (RFC 9112
        // §6.3)
        if (h.header("Transfer-Encoding") != null && !h.chunked()) {
            throw new ProtocolException("unsupported Transfer-Encoding: " + h.header("Transfer-Encoding"));
        }
        // both framings at once is how a request is smuggled past a proxy that reads the other one (RFC 9112 §6.1)
        if (h.header("Transfer-Encoding") != null && h.header("Content-Length") != null) {
            throw new ProtocolException("both Transfer-Encoding and Content-Length");
        }
        return body(h.chunked() ? -1 : h.contentLength(), h.chunked(), false);
    }

    /** The body of a response with this head to a request with {@code method}. */
    public Body responseBody(Head h, String method) throws ProtocolException {
        int s = h.status();
        if ("HEAD".equals(method) || s / 100 == 1 || s == 204 || s == 304) return body(0, false, false);
        return body(h.chunked() ? -1 : h.contentLength(), h.chunked(), true);
    }

    /** A message body decoded from its framing; {@link #complete()} says whether it was read to its end. */
    public static final class Body extends InputStream {
        static final int FIXED = 0, CHUNKED = 1, UNTIL_CLOSE = 2;

        private final HttpIn src;
        private final int mode;
        private long remaining;
        private boolean done;
        private boolean chunkCrlfPending;

        Body(HttpIn src, int mode, long length) {
            this.src = src;
            this.mode = mode;
            this.remaining = length;
            this.done = mode == FIXED && length == 0;
        }

        public boolean complete() {
            return done;
        }

        /** Whether the body's end is marked by the connection closing. */
        public boolean untilClose() {
            return mode == UNTIL_CLOSE;
        }

        /** Whether the body has a known length (and {@link #length()} gives it). */
        public boolean fixed() {
            return mode == FIXED;
        }

        public long length() {
            return mode == FIXED ? remaining : -1;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) return -1;
            if (len == 0) return 0;
            switch (mode) {
                case FIXED -> {
                    int n = src.readRaw(b, off, (int) Math.min(len, remaining));
                    if (n < 0)
                        throw new EOFException("connection closed with " + remaining + " body bytes still to come");
                    remaining -= n;
                    if (remaining == 0) done = true;
                    return n;
                }
                case UNTIL_CLOSE -> {
                    int n = src.readRaw(b, off, len);
                    if (n < 0) done = true;
                    return n;
                }
                default -> {
                    if (remaining == 0) {
                        if (chunkCrlfPending) {
                            if (!src.readLine().isEmpty()) throw new ProtocolException("chunk not followed by CRLF");
                            chunkCrlfPending = false;
                        }
                        long size = chunkSize(src.readLine());
                        if (size == 0) {
                            while (!src.readLine().isEmpty()) {
                                // trailers are dropped
                            }
                            done = true;
                            return -1;
                        }
                        remaining = size;
                    }
                    int n = src.readRaw(b, off, (int) Math.min(len, remaining));
                    if (n < 0) throw new EOFException("connection closed inside a chunk");
                    remaining -= n;
                    if (remaining == 0) chunkCrlfPending = true;
                    return n;
                }
            }
        }

        /**
         * A chunk-size line: hex digits only (no sign, no {@code 0x}, at most 15 of them), then an optional extension.
         * Lenient parsers that take {@code +3} or {@code -0} are where two readers of one stream disagree.
         */
        private static long chunkSize(String line) throws ProtocolException {
            int end = line.indexOf(';');
            if (end < 0) end = line.length();
            while (end > 0 && (line.charAt(end - 1) == ' ' || line.charAt(end - 1) == '\t')) end--;
            if (end == 0 || end > 15) throw new ProtocolException("bad chunk size: " + printable(line));
            long size = 0;
            for (int i = 0; i < end; i++) {
                int d = Character.digit(line.charAt(i), 16);
                if (d < 0 || line.charAt(i) > 'f') throw new ProtocolException("bad chunk size: " + printable(line));
                size = size * 16 + d;
            }
            return size;
        }

        private static String printable(String s) {
            String cut = s.length() > 40 ? s.substring(0, 40) + "…" : s;
            return cut.replaceAll("[^\\x20-\\x7e]", "?");
        }

        /** Reads the rest of the body into an array; {@code limit} guards memory. */
        public byte[] readAll(int limit) throws IOException {
            return readAll(limit, Grant.ANY);
        }

        /**
         * Reads the rest of the body into an array that grows as bytes arrive, never ahead of them: a declared length
         * reserves nothing until the bytes come. Each growth is asked of {@code grant} first; past {@code limit},
         * {@link BodyTooLarge}.
         */
        public byte[] readAll(int limit, Grant grant) throws IOException {
            if (mode == FIXED && remaining > limit)
                throw new BodyTooLarge("body of " + remaining + " bytes exceeds " + limit);
            int cap = mode == FIXED ? (int) Math.min(remaining, FIRST_BUFFER) : 1024;
            grant.take(cap);
            byte[] out = new byte[cap];
            int n = 0;
            while (true) {
                if (n == out.length) {
                    if (mode == FIXED && remaining == 0) break;
                    if (mode != FIXED && n >= limit) throw new BodyTooLarge("body exceeds " + limit + " bytes");
                    int next = mode == FIXED ? (int) Math.min((long) n + remaining, 2L * n) : Math.min(limit, 2 * n);
                    grant.take(next);
                    out = Arrays.copyOf(out, next);
                }
                int r = read(out, n, out.length - n);
                if (r < 0) break;
                n += r;
            }
            return n == out.length ? out : Arrays.copyOf(out, n);
        }

        /** Bytes allocated up front for a body of declared length; the rest grows as it arrives. */
        static final int FIRST_BUFFER = 64 << 10;

        /**
         * Memory a body reader asks for before it allocates: a server's budget for bodies in flight. {@link #take}
         * throws when the budget is spent; the caller gives the total back once the body is done with.
         */
        public interface Grant {
            Grant ANY = bytes -> {};

            void take(long bytes) throws IOException;
        }
    }
}
