package dev.rolloutlab.engine;

/** A snapshot of how busy an engine is; the server reports it as sglang's {@code /get_load}. */
public record EngineLoad(
        int runningSequences, int waitingRequests, double tokensPerSecond, long kvCacheBytes, long weightsVersion) {}
