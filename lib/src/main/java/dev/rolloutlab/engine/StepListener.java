package dev.rolloutlab.engine;

/**
 * Told of every engine step as it ends, on the scheduler thread: when it began and ended ({@link System#nanoTime()}),
 * the sequences it decoded and the prompt tokens it prefilled. Implementations must return at once, as a
 * {@link TokenListener} must.
 */
public interface StepListener {
    StepListener NONE = (startNs, endNs, decoded, prefilled) -> {};

    void onStep(long startNs, long endNs, int decoded, int prefilled);
}
