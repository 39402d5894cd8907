package dev.rolloutlab.engine;

import dev.rolloutlab.engine.model.PrefixCache;

/**
 * A snapshot of how busy an engine is, and what its prefix cache did; the server reports it as sglang's
 * {@code /get_load}.
 */
public record EngineLoad(
        int runningSequences,
        int waitingRequests,
        double tokensPerSecond,
        long kvCacheBytes,
        long weightsVersion,
        PrefixCache.Stats prefixCache) {}
