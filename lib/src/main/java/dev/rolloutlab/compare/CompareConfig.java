package dev.rolloutlab.compare;

import java.nio.file.Path;
import java.util.List;

/**
 * What {@code compare} runs: the model, the topologies, the prompt × output length grid, the load, and the
 * weight-freshness experiment. {@link #defaults(boolean)} is the embedded default (and {@code --quick}).
 */
public record CompareConfig(
        Path model,
        String shape,
        List<String> topologies,
        int numServers,
        int concurrency,
        int requestsPerLeg,
        int warmupPerCell,
        List<Integer> promptLens,
        List<Integer> outputLens,
        List<String> connections,
        List<Integer> sweepConcurrency,
        List<String> strategies,
        int freshnessSteps,
        int freshnessBatch,
        int groupSize,
        List<String> externalTargets,
        String endpoint,
        boolean quick) {

    public static final List<String> ALL_TOPOLOGIES = List.of("inproc", "http1", "httpN", "lb");
    public static final List<String> ALL_STRATEGIES = List.of("inproc-swap", "http-push-all", "http-push-rolling", "http-reload", "http-restart");

    public static CompareConfig defaults(boolean quick) {
        return quick
                ? new CompareConfig(null, "tiny", ALL_TOPOLOGIES, 2, 4, 16, 48, List.of(8, 128), List.of(1, 16),
                List.of("keep-alive", "close"), List.of(1, 2, 8), ALL_STRATEGIES, 2, 4, 2, List.of(), "auto", true)
                : new CompareConfig(null, "small", ALL_TOPOLOGIES, 4, 4, 24, 8, List.of(8, 128), List.of(1, 32),
                List.of("keep-alive", "close"), List.of(1, 4, 16), ALL_STRATEGIES, 3, 8, 4, List.of(), "auto", false);
    }

    public CompareConfig with(Path model, String shape, List<String> topologies, Integer numServers, Integer concurrency,
                              List<String> externalTargets) {
        return new CompareConfig(model != null ? model : this.model, shape != null ? shape : this.shape,
                topologies != null ? topologies : this.topologies, numServers != null ? numServers : this.numServers,
                concurrency != null ? concurrency : this.concurrency, requestsPerLeg, warmupPerCell, promptLens, outputLens, connections,
                sweepConcurrency, strategies, freshnessSteps, freshnessBatch, groupSize, externalTargets != null ? externalTargets : this.externalTargets,
                endpoint, quick);
    }

    public CompareConfig withStrategies(List<String> s) {
        return new CompareConfig(model, shape, topologies, numServers, concurrency, requestsPerLeg, warmupPerCell, promptLens, outputLens,
                connections, sweepConcurrency, s, freshnessSteps, freshnessBatch, groupSize, externalTargets, endpoint, quick);
    }

    /** {@code completions}, {@code chat}, or {@code auto}: completions for our servers, probed once for external targets. */
    public CompareConfig withEndpoint(String e) {
        if (!List.of("completions", "chat", "auto").contains(e)) throw new IllegalArgumentException("--endpoint " + e + ": expected completions, chat or auto");
        return new CompareConfig(model, shape, topologies, numServers, concurrency, requestsPerLeg, warmupPerCell, promptLens, outputLens,
                connections, sweepConcurrency, strategies, freshnessSteps, freshnessBatch, groupSize, externalTargets, e, quick);
    }
}
