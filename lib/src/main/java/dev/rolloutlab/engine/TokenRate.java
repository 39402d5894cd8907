package dev.rolloutlab.engine;

/** Tokens per second over windows of at least one second, for the load report; used by the scheduler thread only. */
final class TokenRate {
    private long windowStartNs = System.nanoTime();
    private long inWindow;
    private double perSecond;

    void count() {
        inWindow++;
    }

    /** The rate of the last full window (a window closes when this is called a second or more after it opened). */
    double perSecond() {
        long now = System.nanoTime();
        double dt = (now - windowStartNs) / 1e9;
        if (dt >= 1.0) {
            perSecond = inWindow / dt;
            inWindow = 0;
            windowStartNs = now;
        }
        return perSecond;
    }
}
