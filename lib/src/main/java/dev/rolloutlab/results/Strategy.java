package dev.rolloutlab.results;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * How new weights reach the engines that sample rollouts: swapped in memory in-process, or moved over HTTP by one of
 * the fanout's ways. One name in every mode; {@link #onOwnServers()} and {@link #onFleet()} say where each can run.
 */
public enum Strategy {
    /** The trainer hands the engine its new weights in memory at the next step boundary. */
    INPROC_SWAP("inproc-swap", true, true),
    /** Every server is sent the full weights at once. */
    PUSH_ALL("http-push-all", true, true, "push-all"),
    /** Stage the full weights everywhere, then commit them together. */
    PUSH_ATOMIC("http-push-atomic", true, false),
    /** Sparse deltas against the version each server holds. */
    DELTA("http-delta", true, false),
    /** Sparse deltas, staged everywhere, then committed together. */
    DELTA_ATOMIC("http-delta-atomic", true, false),
    /** The full weights, one server after the other. */
    PUSH_ROLLING("http-push-rolling", true, true, "rolling"),
    /** Each server reloads a checkpoint from disk through its admin endpoint. */
    RELOAD("http-reload", true, false),
    /** Each server is restarted on the new checkpoint. */
    RESTART("http-restart", true, false),
    /** Down a binary broadcast tree, each host forwarding to its children over its own uplink. */
    PUSH_TREE("http-push-tree", false, true, "tree"),
    /** Every host pulls the weights from a storage host. */
    STORAGE_PULL("http-storage-pull", false, true, "storage");

    private final String wire;
    private final boolean onOwnServers, onFleet;
    private final List<String> formerNames;

    Strategy(String wire, boolean onOwnServers, boolean onFleet, String... formerNames) {
        this.wire = wire;
        this.onOwnServers = onOwnServers;
        this.onFleet = onFleet;
        this.formerNames = List.of(formerNames);
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    /** Whether it runs on the servers compare starts itself. */
    public boolean onOwnServers() {
        return onOwnServers;
    }

    /** Whether it runs on a simulated fleet ({@code compare --fleet}, {@code sim sweep}). */
    public boolean onFleet() {
        return onFleet;
    }

    public boolean inProcess() {
        return this == INPROC_SWAP;
    }

    /** The strategies that run on a simulated fleet, in-process swap first. */
    public static List<Strategy> fleet() {
        return Arrays.stream(values()).filter(Strategy::onFleet).toList();
    }

    /** The strategies that run on compare's own servers. */
    public static List<Strategy> ownServers() {
        return Arrays.stream(values()).filter(Strategy::onOwnServers).toList();
    }

    /** Parses a flag value or a results column, also under a name an earlier release used. */
    @JsonCreator
    public static Strategy parse(String s) {
        return find(s).orElseThrow(() -> new IllegalArgumentException("unknown strategy '" + s + "': expected one of "
                + String.join(", ", Arrays.stream(values()).map(Strategy::wire).toList())));
    }

    public static Optional<Strategy> find(String s) {
        return Arrays.stream(values())
                .filter(x -> x.wire.equals(s) || x.formerNames.contains(s))
                .findFirst();
    }

    /** True when {@code s} is a name an earlier release used, so a command can print a deprecation line. */
    public static boolean isFormerName(String s) {
        return Arrays.stream(values()).anyMatch(x -> x.formerNames.contains(s));
    }

    @Override
    public String toString() {
        return wire;
    }
}
