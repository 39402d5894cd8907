package dev.rolloutlab.results;

import dev.rolloutlab.results.Confidence.Interval;

/**
 * A leg's rates per second: completed requests, output tokens (NaN when no count is known), each with its interval
 * across rounds on a pooled row, and goodput (requests that met every SLO).
 */
public record Throughput(Interval requests, Interval outputTokens, double goodput) {}
