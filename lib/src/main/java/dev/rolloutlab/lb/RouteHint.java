package dev.rolloutlab.lb;

import java.nio.charset.StandardCharsets;

/**
 * What a policy may read of one request to keep related requests together: its affinity key ({@code X-Session-Id}, else
 * {@code X-Group-Id}; null when neither is sent) and the request body (null when too large to keep), whose prompt
 * starts at {@link #promptStart()}.
 */
record RouteHint(String affinity, byte[] body) {
    /** Longest affinity key taken; a longer one is refused with 400 before routing. */
    static final int MAX_AFFINITY = 256;

    static final RouteHint NONE = new RouteHint(null, null);

    private static final byte[] PROMPT = "\"prompt\"".getBytes(StandardCharsets.US_ASCII),
            MESSAGES = "\"messages\"".getBytes(StandardCharsets.US_ASCII);

    /**
     * Where the prompt (or the chat messages) begins in the body: fields before it (model, sampling) differ between
     * requests that share a prompt, so prefix matching starts here. 0 when neither key is found.
     */
    int promptStart() {
        if (body == null) return 0;
        int p = indexOf(body, PROMPT), m = indexOf(body, MESSAGES);
        if (p < 0) return Math.max(m, 0);
        return m < 0 ? p : Math.min(p, m);
    }

    private static int indexOf(byte[] a, byte[] key) {
        outer:
        for (int i = 0; i + key.length <= a.length; i++) {
            for (int j = 0; j < key.length; j++) if (a[i + j] != key[j]) continue outer;
            return i;
        }
        return -1;
    }
}
