package dev.rolloutlab.lb;

import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
import java.util.Locale;

/**
 * Orders the backends to try for one request: the first is the choice, the rest are failover in order. One class per
 * policy; {@link #parse} maps the {@code --policy} names.
 */
public interface Policy {
    /**
     * Fills {@code order} (length = backends) with indexes into {@code backends}, for the request {@code hint}
     * describes.
     */
    void order(List<Backend> backends, RouteHint hint, int[] order);

    /** Adds the policy's own counters to {@code /metrics}; most policies have none. */
    default void addMetrics(MetricSnapshots.Builder m) {}

    /** The name {@code --policy} takes. */
    String name();

    /**
     * {@code openai_load_balancer}'s {@code /health} takes a turn of the round-robin counter; other policies have no
     * turn to take.
     */
    default void skipTurn() {}

    /** Whether the policy reads the load backends report on {@code /get_load} (the health checker then fetches it). */
    default boolean usesReportedLoad() {
        return false;
    }

    static Policy parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "round-robin", "rr" -> new RoundRobin();
            case "least-load" -> new LeastLoad();
            case "p2c" -> new PowerOfTwoChoices();
            case "random" -> new RandomChoice();
            case "cache-aware" -> new CacheAware();
            case "sticky" -> new Sticky();
            default ->
                throw new IllegalArgumentException(
                        "--policy " + s + ": expected round-robin, least-load, p2c, random, cache-aware or sticky");
        };
    }

    /**
     * Fills {@code order} with {@code start, start+1, ...} cyclically: {@code openai_load_balancer}'s failover walk.
     */
    static void walkFrom(int start, int[] order) {
        int n = order.length;
        for (int i = 0; i < n; i++) order[i] = (start + i) % n;
    }
}
