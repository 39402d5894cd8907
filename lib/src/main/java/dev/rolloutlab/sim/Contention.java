package dev.rolloutlab.sim;

import java.util.Objects;

/**
 * How the simulated engines of one process slow each other: how many steps of each kind run at full speed at once (more
 * share the cores, see {@link SharedCores}; 0 when the engines do not contend, one per host), and how much slower or
 * faster than its share a prefill runs beside decoding engines. A prefill's fixed work (a request's scheduling,
 * hand-offs between threads) and its work per prompt token (matrix products that use every core) contend differently,
 * and which contends more depends on the engine: an earlier engine of ours took 2.8 times its time alone for 4 prefills
 * of 8 tokens at once on 2 cores and 3.9 at 128 tokens; today's takes 3.9 and 3.1. So a prefill's share is its two
 * parts' shares weighted by their time alone, and tends to the per-token part's for long prompts.
 *
 * @param decodes decode steps at full speed at once
 * @param prefills prefills at full speed at once for their fixed work (an empty prompt)
 * @param longPrefills prefills at full speed at once for their work per prompt token (a long prompt)
 * @param prefillBesideDecodes how many times slower than its share a prefill runs while decode steps run (1: as its
 *     share)
 * @param waits where an engine's thread waits for a core the running steps hold, outside its own steps
 * @param serverWorkMs the simulating server's own work per request (parsing, writing the answer), counted as done of
 *     the request's prefill step: a real host's server work shares its cores with the steps and slows with them, while
 *     a simulated server's is real work on cores its sleeping steps leave free and does not. Without it, a fit whose
 *     prefill alone was the real host's time less the simulating server's work kept less of it to slow, down to none:
 *     short requests on a busy simulated host ran faster than on the real one
 */
public record Contention(
        double decodes,
        double prefills,
        double longPrefills,
        double prefillBesideDecodes,
        CoreWaits waits,
        double serverWorkMs) {
    /** Engines that do not share their cores. */
    public static final Contention NONE = new Contention(0, 0, 0, 1);

    /** Engines whose threads find a core at once outside their steps. */
    public Contention(double decodes, double prefills, double longPrefills, double prefillBesideDecodes) {
        this(decodes, prefills, longPrefills, prefillBesideDecodes, CoreWaits.NONE, 0);
    }

    public Contention {
        Objects.requireNonNull(waits, "waits");
        for (double k : new double[] {decodes, prefills, longPrefills}) {
            if (!(k == 0 || (k >= 0.05 && k <= 4096)))
                throw new IllegalArgumentException(
                        "full-speed steps must be 0 (no contention) or in [0.05, 4096], got " + k);
        }
        if ((prefills == 0) != (longPrefills == 0))
            throw new IllegalArgumentException("full-speed prefills must both be 0 (no contention) or neither, got "
                    + prefills + " for an empty prompt and " + longPrefills + " for a long one");
        if (!(prefillBesideDecodes >= 0.05 && prefillBesideDecodes <= 100)) {
            throw new IllegalArgumentException(
                    "a prefill's slowdown beside decodes must be in [0.05, 100], got " + prefillBesideDecodes);
        }
        if (!(serverWorkMs >= 0 && serverWorkMs <= 1000))
            throw new IllegalArgumentException("the server's own work must be in [0, 1000] ms, got " + serverWorkMs);
    }

    /** The same full speed for a prefill's fixed work and its work per token. */
    public static Contention uniform(double decodes, double prefills, double prefillBesideDecodes) {
        return new Contention(decodes, prefills, prefills, prefillBesideDecodes);
    }

    /** The same contention whose threads wait for cores as {@code w} says. */
    public Contention withWaits(CoreWaits w) {
        return new Contention(decodes, prefills, longPrefills, prefillBesideDecodes, w, serverWorkMs);
    }

    /** The same contention with the simulating server's own work per request counted as {@code ms}. */
    public Contention withServerWork(double ms) {
        return new Contention(decodes, prefills, longPrefills, prefillBesideDecodes, waits, ms);
    }

    /** Whether these engines slow each other at all. */
    public boolean contends() {
        return decodes > 0 || prefills > 0;
    }

    /**
     * The share of the host a step demands while it runs (0: none): a prefill's fixed part, its per-token part and a
     * decode's, weighted by their time alone.
     */
    double share(double prefillFixedMs, double prefillTokensMs, double decodeMs) {
        double total = prefillFixedMs + prefillTokensMs + decodeMs;
        if (!contends() || total <= 0) return 0;
        return (prefillFixedMs * inverse(prefills)
                        + prefillTokensMs * inverse(longPrefills)
                        + decodeMs * inverse(decodes))
                / total;
    }

    private static double inverse(double k) {
        return k == 0 ? 0 : 1 / k;
    }
}
