package dev.rolloutlab.results;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;

/** How a leg's client reaches its targets: pooled keep-alive connections, a new one per request, or none in-process. */
public enum Connection {
    KEEP_ALIVE("keep-alive"),
    /** {@code Connection: close}: a TCP handshake per request, as a client without a pool pays. */
    CLOSE("close"),
    /** In-process: no connection at all. */
    NONE("none");

    private final String wire;

    Connection(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static Connection parse(String s) {
        return Arrays.stream(values())
                .filter(c -> c.wire.equals(s))
                .findFirst()
                .orElseThrow(() ->
                        new IllegalArgumentException("unknown connection '" + s + "': expected keep-alive or close"));
    }

    @Override
    public String toString() {
        return wire;
    }
}
