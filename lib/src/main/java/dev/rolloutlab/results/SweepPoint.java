package dev.rolloutlab.results;

/**
 * One row of {@code sweep.csv}: throughput at one concurrency on the sweep workload, keep-alive, in one round (0: all
 * rounds pooled, with the output throughput's 95 % interval across rounds).
 */
public record SweepPoint(
        Topology topology,
        int concurrency,
        int round,
        double requestThroughput,
        double outputThroughput,
        double outputThroughputCiLow,
        double outputThroughputCiHigh,
        double meanE2elMs,
        double p99E2elMs) {}
