package dev.rolloutlab.server;

/** An admin failure answered in the weight tooling's shape {@code {"ok":false,"error":…}} with its status. */
public final class AdminError extends RuntimeException {
    final int status;

    public AdminError(int status, String message) {
        super(message);
        this.status = status;
    }
}
