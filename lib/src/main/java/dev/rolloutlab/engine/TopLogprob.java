package dev.rolloutlab.engine;

/** One alternative at a position, for {@code top_logprobs}. */
public record TopLogprob(int tokenId, float logprob) {}
