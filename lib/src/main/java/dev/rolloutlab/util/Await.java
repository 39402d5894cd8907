package dev.rolloutlab.util;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The one way to wait for a condition another thread or process makes true (poll it, backing off from 1 ms to 50 ms),
 * and for a moment on the {@link System#nanoTime} clock.
 */
public final class Await {
    private Await() {}

    /** Returns true as soon as {@code condition} holds, false if it still does not after {@code timeout}. */
    public static boolean until(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long pauseMs = 1;
        while (true) {
            if (condition.getAsBoolean()) return true;
            if (System.nanoTime() >= deadline) return false;
            try {
                Thread.sleep(pauseMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return condition.getAsBoolean();
            }
            pauseMs = Math.min(50, pauseMs * 2);
        }
    }

    /** Parks until {@link System#nanoTime} reaches {@code deadlineNs}, never less: a park may return early. */
    public static void nanoTime(long deadlineNs) {
        for (long left; (left = deadlineNs - System.nanoTime()) > 0; ) LockSupport.parkNanos(left);
    }
}
