package dev.rolloutlab.sim;

import java.util.concurrent.ThreadLocalRandom;

/**
 * How an engine's thread waits for a core that other engines' steps hold: how often it waits while they run, and how
 * long on average when it does (exponential). On a loaded host most such threads get a core at once and the rest wait
 * out another thread's time slice: our 2-core host's requests waited in 25–45 % of cases, 3–4 ms when they did.
 *
 * @param chance the probability of waiting while other steps run, in [0, 1]
 * @param meanMs the mean wait when it waits, ms
 */
public record CoreWait(double chance, double meanMs) {
    /** A core at once, always. */
    public static final CoreWait NONE = new CoreWait(0, 0);

    public CoreWait {
        if (!(chance >= 0 && chance <= 1))
            throw new IllegalArgumentException("a wait's chance must be in [0, 1], got " + chance);
        if (!(meanMs >= 0 && meanMs <= 60_000))
            throw new IllegalArgumentException("a wait for a core must be in [0, 60000] ms, got " + meanMs);
    }

    boolean waits() {
        return chance > 0 && meanMs > 0;
    }

    /** One wait drawn from this one, ns (0 most of the time). */
    long drawNanos() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        if (r.nextDouble() >= chance) return 0;
        return (long) (-meanMs * 1e6 * Math.log(1 - r.nextDouble()));
    }
}
