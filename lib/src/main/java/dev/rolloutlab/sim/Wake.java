package dev.rolloutlab.sim;

/**
 * How long an idle engine's thread, woken by a request, waits for a core the other engines' steps hold, in ms (0:
 * none). A running step gives its cores back between its parallel sections: often during decode steps, rarely during a
 * prefill's long matrix products. On our 2-core host with 4 engines, a stream's request waited 0.4–0.8 ms on average
 * beside decoding engines and a single-token request 1.5–2.3 ms beside prefilling ones, though nothing was ahead of
 * either in its engine. A step's share cannot express it: it is a wait before the step, not a slower step.
 *
 * @param besideDecodesMs the mean wait while only decode steps run
 * @param besidePrefillsMs the mean wait while a prefill runs
 */
public record Wake(double besideDecodesMs, double besidePrefillsMs) {
    /** Woken engines find a core at once. */
    public static final Wake NONE = new Wake(0, 0);

    public Wake {
        for (double ms : new double[] {besideDecodesMs, besidePrefillsMs}) {
            if (!(ms >= 0 && ms <= 60_000))
                throw new IllegalArgumentException(
                        "a woken engine's wait for a core must be in [0, 60000] ms, got " + ms);
        }
    }

    /** The mean wait in nanoseconds while these steps run. */
    double meanNanos(boolean prefillRunning) {
        return (prefillRunning ? besidePrefillsMs : besideDecodesMs) * 1e6;
    }

    boolean waits() {
        return besideDecodesMs > 0 || besidePrefillsMs > 0;
    }
}
