package dev.rolloutlab.engine;

/** What {@link InProcessEngine#perturb} changed: how many tensors, the checksum before and after, the new version. */
public record PerturbResult(
        int numLeaves, double checksumBefore, double checksumAfter, long version, double elapsedSec) {}
