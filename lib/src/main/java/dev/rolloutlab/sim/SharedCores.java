package dev.rolloutlab.sim;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The cores the simulated engines of one process share. A step's modelled time is its time alone; each running step
 * demands a share of the host ({@link Contention}), and while the demands add up past the whole host every step
 * progresses proportionally slower (processor sharing, recomputed whenever a step starts or ends). Several engines on
 * the same cores behave so, and a per-engine step time alone cannot express it: it depends on what the other engines do
 * at that moment. A prefill beside decodes runs slower than its share by a further factor of its own, and a step that
 * shares the host varies in length (a log-normal factor of mean 1): sharing is not fair from step to step. An engine's
 * thread outside its steps may wait for a core while the others' steps hold them ({@link CoreWaits}).
 */
final class SharedCores {
    /** This process's cores: every engine in a process runs on the same ones (and the same profile). */
    static final SharedCores PROCESS = new SharedCores();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int prefills, decodes;
    private double demand;
    private long changes;

    /**
     * Blocks for a step of {@code soloNanos} of work demanding {@code share} of the host, stretched while the running
     * steps demand more than all of it; a prefill runs {@code besideDecodes} times slower still while decodes run, and
     * {@code cv} is how much the work varies when other steps run beside it. {@code doneNanos} of the work was done
     * outside the model, at full speed (the simulating server's own, {@link Contention#serverWorkMs}): the step is that
     * much shorter than its stretched work.
     */
    void run(long soloNanos, long doneNanos, boolean prefill, double share, double besideDecodes, double cv) {
        lock.lock();
        try {
            enter(prefill, share, 1);
            double remaining = prefills + decodes > 1 ? soloNanos * jitter(cv) : soloNanos;
            long last = System.nanoTime();
            for (boolean first = true; remaining > 0; first = false) {
                // a step alone runs at full speed by definition; together, steps may slow each other more than their
                // number (threads of several engines on two cores): a share above 1/n
                double rate = prefills + decodes == 1 ? 1.0 : Math.min(1.0, 1.0 / demand);
                if (prefill && decodes > 0) rate = Math.min(1.0, rate / besideDecodes);
                // work done at full speed saves its own time, not its time stretched: at the rate the step starts at
                if (first && (remaining -= doneNanos * rate) <= 0) break;
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
            enter(prefill, share, -1);
            lock.unlock();
        }
    }

    /**
     * An idle engine's thread, woken by a request, may wait for a core while other steps run: as {@code waits} says for
     * the steps running (a prefill among them or not), less if every step ends first.
     */
    void awaken(CoreWaits waits) {
        lock.lock();
        try {
            waitForCore(waits.woken(prefills > 0));
        } finally {
            lock.unlock();
        }
    }

    /** An engine's thread whose step has just finished a request may wait for a core before the request ends. */
    void finishing(CoreWait wait) {
        lock.lock();
        try {
            waitForCore(wait);
        } finally {
            lock.unlock();
        }
    }

    /** With nothing running, a core at once; else one wait drawn from {@code w}, ended early if every step ends. */
    private void waitForCore(CoreWait w) {
        if (demand <= 1e-9) return;
        try {
            for (long wait = w.drawNanos(); wait > 0 && demand > 1e-9; ) wait = changed.awaitNanos(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // the engine is closing
        }
    }

    /** The share of the host the running steps demand now. */
    double demand() {
        lock.lock();
        try {
            return demand;
        } finally {
            lock.unlock();
        }
    }

    private static double jitter(double cv) {
        if (cv == 0) return 1;
        double sigma = Math.sqrt(Math.log(1 + cv * cv));
        return Math.exp(sigma * ThreadLocalRandom.current().nextGaussian() - sigma * sigma / 2);
    }

    /** A step of {@code share} starts ({@code delta} 1) or ends (-1). */
    private void enter(boolean prefill, double share, int delta) {
        if (prefill) prefills += delta;
        else decodes += delta;
        demand += delta * share;
        changes++;
        changed.signalAll();
    }
}
