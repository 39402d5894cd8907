package dev.rolloutlab.lb;

/**
 * What the accept loop does when {@code accept()} fails (most often EMFILE, out of file descriptors): wait before
 * trying again, 10 ms doubling to 1 s, and log one line per 10 s with how many failures it stands for, instead of a
 * line per failure at full speed.
 */
final class AcceptBackoff {
    private static final long LOG_EVERY_NS = 10_000_000_000L;
    private long waitMs;
    private long failures;
    private long lastLogNs = Long.MIN_VALUE / 2;

    void reset() {
        waitMs = 0;
    }

    void failed(Exception e) {
        failures++;
        long now = System.nanoTime();
        if (now - lastLogNs >= LOG_EVERY_NS) {
            System.err.println("lb: accept failed " + failures + " time(s) since the last report: " + e.getMessage()
                    + (String.valueOf(e.getMessage()).contains("Too many open files")
                            ? " (raise ulimit -n, or lower --max-connections)"
                            : ""));
            lastLogNs = now;
            failures = 0;
        }
        waitMs = waitMs == 0 ? 10 : Math.min(1000, waitMs * 2);
        try {
            Thread.sleep(waitMs);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
    }
}
