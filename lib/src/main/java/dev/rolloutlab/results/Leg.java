package dev.rolloutlab.results;

/** What one row measures: a topology under one connection policy on one workload. */
public record Leg(Topology topology, Connection connection, String workload) {}
