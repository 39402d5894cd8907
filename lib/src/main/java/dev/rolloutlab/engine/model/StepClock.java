package dev.rolloutlab.engine.model;

/**
 * The time a simulated engine's steps take instead of computing them ({@code serve --engine sim}). The engine knows
 * nothing of how that time is modelled; {@code sim} supplies it. Called once per scheduler step, on its thread.
 */
public interface StepClock {
    /** Sequences decoded together at most; more wait for a slot. */
    int maxBatch();

    /**
     * Blocks until one step of these rows, begun at {@code startNanos} ({@link System#nanoTime()}), has taken its time.
     */
    void step(long startNanos, int prefillTokens, int decodeRows, double meanContext);

    /**
     * Called when the engine's thread, idle, takes up a request, before it admits it: a real engine's thread may wait
     * there for a core, and that wait is the request's queue time.
     */
    default void awaken() {}

    /**
     * Called when a step has finished a request, before the engine ends it: a real engine's thread may lose its core
     * there to other engines' steps, and that wait is the last of the request's time.
     */
    default void finishing() {}
}
