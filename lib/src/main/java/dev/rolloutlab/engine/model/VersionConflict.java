package dev.rolloutlab.engine.model;

/**
 * A weight change made for other weights than the ones serving (a delta or a stage on an old base): refused, nothing
 * changes.
 */
public final class VersionConflict extends RuntimeException {
    public VersionConflict(String message) {
        super(message);
    }
}
