package dev.rolloutlab.compare;

import dev.rolloutlab.bench.MetricsScraper;
import dev.rolloutlab.openai.OpenAiClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * How often a balancer's prefix-keeping policy followed its guess over one run: the share of requests cache-aware sent
 * where their prompt's prefix went before, or sticky sent to their key's backend, rather than by load. Read from the
 * balancer's {@code /metrics} before and after the run, so the report can set the guess beside the engines' real cache
 * hits; with it, where the balancer sent the run's requests.
 */
final class RoutingGuess {
    private final MetricsScraper scraper;

    private RoutingGuess(MetricsScraper scraper) {
        this.scraper = scraper;
    }

    /**
     * Reads the balancer's counters now; {@link #after} reads them again. A read that fails is said to {@code warn} and
     * leaves that run's share NaN.
     */
    static RoutingGuess before(OpenAiClient balancer, Consumer<String> warn) {
        // one sample now and one at stop: the period only has to outlast any run
        return new RoutingGuess(MetricsScraper.start(List.of(balancer), Duration.ofDays(1), warn));
    }

    /**
     * What the balancer did since {@link #before}: {@code share}, the requests routed by the guess (NaN for a policy
     * that keeps no prefixes, or when a read failed), and {@code perBackend}, how many requests each backend was sent
     * (where the load went, in the balancer's order of backends).
     */
    record Routed(double share, List<Long> perBackend) {}

    Routed after() {
        Map<String, Double> first = new HashMap<>(), grown = new LinkedHashMap<>();
        for (MetricsScraper.Sample s : scraper.stop()) {
            String name = s.metric().replaceFirst("_total$", "").replace("_total{", "{");
            Double at = first.putIfAbsent(name, s.value());
            grown.put(name, s.value() - (at == null ? s.value() : at));
        }
        List<Long> perBackend = new ArrayList<>();
        grown.forEach((name, v) -> {
            if (name.startsWith("lb_requests{")) perBackend.add(Math.round(v));
        });
        return new Routed(share(grown), perBackend);
    }

    private static double share(Map<String, Double> grown) {
        double byPrefix = grown.getOrDefault("lb_routed_by_prefix", 0.0),
                byLoad = grown.getOrDefault("lb_routed_by_load", 0.0),
                keyed = grown.getOrDefault("lb_affinity_routed", 0.0),
                spilled = grown.getOrDefault("lb_affinity_spilled", 0.0),
                unkeyed = grown.getOrDefault("lb_affinity_unkeyed", 0.0);
        if (grown.containsKey("lb_routed_by_prefix")) return fraction(byPrefix, byPrefix + byLoad);
        if (grown.containsKey("lb_affinity_routed")) return fraction(keyed, keyed + spilled + unkeyed);
        return Double.NaN;
    }

    private static double fraction(double guessed, double all) {
        return all > 0 ? guessed / all : Double.NaN;
    }
}
