package dev.rolloutlab.results;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where a leg's requests go: into engines in this process, or over HTTP to one port, to every port, or through the
 * balancer. Each HTTP topology is measured against the in-process one with as many engines, its {@link #baseline()}.
 */
public enum Topology {
    /** One engine in the client's process. */
    INPROC("inproc"),
    /** N engines in the client's process, as many as the HTTP topologies have behind them. */
    INPROC_N("inprocN"),
    /** One port of one serve process. */
    HTTP1("http1"),
    /** Every port, the client spreading requests over them itself (the seed's fanout client does this). */
    HTTP_N("httpN", "fanout"),
    /** Every port behind the balancer. */
    LB("lb");

    private final String wire;
    private final List<String> aliases;

    Topology(String wire, String... aliases) {
        this.wire = wire;
        this.aliases = List.of(aliases);
    }

    /** The name in flags, CSV and JSON. */
    @JsonValue
    public String wire() {
        return wire;
    }

    public boolean inProcess() {
        return this == INPROC || this == INPROC_N;
    }

    /** Whether one engine computes behind it (else N: one per port, or per host on a fleet). */
    public boolean oneEngine() {
        return this == INPROC || this == HTTP1;
    }

    /** The in-process topology with the same engines; null for an in-process one. */
    public Topology baseline() {
        return switch (this) {
            case INPROC, INPROC_N -> null;
            case HTTP1 -> INPROC;
            case HTTP_N, LB -> INPROC_N;
        };
    }

    /**
     * The baseline this topology is measured against in a run where {@code ran} were measured: its equal-compute one,
     * else the other in-process one; empty for an in-process topology or when neither ran.
     */
    public Optional<Topology> baselineAmong(Collection<Topology> ran) {
        Topology b = baseline();
        if (b == null) return Optional.empty();
        Topology other = b == INPROC ? INPROC_N : INPROC;
        return ran.contains(b) ? Optional.of(b) : ran.contains(other) ? Optional.of(other) : Optional.empty();
    }

    /** Each HTTP topology's baseline by wire name, as run.json records it. */
    public static Map<String, String> baselines() {
        Map<String, String> m = new LinkedHashMap<>();
        for (Topology t : values()) if (t.baseline() != null) m.put(t.wire, t.baseline().wire);
        return m;
    }

    /** Parses a flag value or a results column; the message names the choices. */
    @JsonCreator
    public static Topology parse(String s) {
        return find(s).orElseThrow(() ->
                new IllegalArgumentException("unknown topology '" + s + "': expected one of " + names(values())));
    }

    /** The topology named {@code s}, also under an older name; empty for a label of a foreign run. */
    public static Optional<Topology> find(String s) {
        return Arrays.stream(values())
                .filter(t -> t.wire.equals(s) || t.aliases.contains(s))
                .findFirst();
    }

    /** The wire names, comma-separated, for help and messages. */
    public static String names(Topology... ts) {
        return String.join(",", Arrays.stream(ts).map(Topology::wire).toList());
    }

    @Override
    public String toString() {
        return wire;
    }
}
