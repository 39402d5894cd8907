package dev.rolloutlab.engine;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The cores the simulated engines of one process share. A step's modelled time is its time alone; while more steps
 * run at once than the host has room for ({@code capacity} engines at full speed), each progresses proportionally
 * slower (processor sharing, recomputed whenever a step starts or ends). Several engines on the same cores behave
 * so, and a per-engine step time alone cannot express it: it depends on what the other engines do at that moment.
 */
final class SharedCores {
    private static final Map<Double, SharedCores> BY_CAPACITY = new ConcurrentHashMap<>();

    private final double capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int active;
    private long changes;

    private SharedCores(double capacity) {
        this.capacity = capacity;
    }

    /** This process's cores: one instance per capacity, since every engine in a process runs on the same cores. */
    static SharedCores of(double capacity) {
        return BY_CAPACITY.computeIfAbsent(capacity, SharedCores::new);
    }

    /** Blocks for a step of {@code soloNanos} of work, stretched while more than {@code capacity} steps run at once. */
    void run(long soloNanos) {
        lock.lock();
        try {
            enter();
            double remaining = soloNanos;
            long last = System.nanoTime();
            while (remaining > 0) {
                double rate = Math.min(1.0, capacity / active);
                long seen = changes, wait = (long) Math.ceil(remaining / rate);
                // one wait per change of the sharing, not slices: slices woke many engines thousands of times a second
                while (wait > 0 && changes == seen) wait = changed.awaitNanos(wait);
                long now = System.nanoTime();
                remaining -= (now - last) * rate;
                last = now;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the engine is closing: the step ends here
        } finally {
            active--;
            changes++;
            changed.signalAll();
            lock.unlock();
        }
    }

    private void enter() {
        active++;
        changes++;
        changed.signalAll();
    }
}
