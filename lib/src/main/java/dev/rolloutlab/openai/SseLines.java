package dev.rolloutlab.openai;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the {@code data:} lines of a server-sent event stream as they arrive, one read per available batch of bytes, so
 * a line's arrival time is when its bytes came off the socket.
 */
final class SseLines {
    private final InputStream in;
    private byte[] buf = new byte[4096];
    private int pos;
    private int lim;

    SseLines(InputStream in) {
        this.in = in;
    }

    /** The payload of the next {@code data:} line, trimmed; null at the end of the stream. */
    String nextData() throws IOException {
        while (true) {
            for (int i = pos; i < lim; i++) {
                if (buf[i] != '\n') continue;
                int s = pos, e = i > pos && buf[i - 1] == '\r' ? i - 1 : i;
                pos = i + 1;
                if (e - s >= 5
                        && buf[s] == 'd'
                        && buf[s + 1] == 'a'
                        && buf[s + 2] == 't'
                        && buf[s + 3] == 'a'
                        && buf[s + 4] == ':') {
                    return new String(buf, s + 5, e - s - 5, StandardCharsets.UTF_8).trim();
                }
                i = pos - 1;
            }
            if (pos > 0) {
                System.arraycopy(buf, pos, buf, 0, lim - pos);
                lim -= pos;
                pos = 0;
            }
            if (lim == buf.length) buf = Arrays.copyOf(buf, buf.length * 2);
            int n = in.read(buf, lim, buf.length - lim);
            if (n < 0) return null;
            lim += n;
        }
    }

    /** Reads and drops the rest of the stream. */
    void drain() throws IOException {
        pos = lim = 0;
        while (in.read(buf, 0, buf.length) >= 0) {
            // discard
        }
    }
}
