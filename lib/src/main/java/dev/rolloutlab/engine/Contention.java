package dev.rolloutlab.engine;

/**
 * How the simulated engines of one process slow each other: how many decode steps, and how many prefill steps, run
 * at full speed at once (more share the cores, see {@link SharedCores}; 0 when the engines do not contend, one per
 * host), and how much slower than its share a prefill runs beside decoding engines. On our engine a 32-token prefill
 * took 5–8 times its time alone next to three decoding engines, where sharing alone gives 3; the decoders were not
 * slowed more meanwhile. A model without the term put the time to first token of a decoding workload 25–40 % low.
 *
 * @param decodes         decode steps at full speed at once
 * @param prefills        prefill steps at full speed at once
 * @param prefillBesideDecodes how many times slower than its share a prefill runs while decode steps run (1: not)
 */
public record Contention(double decodes, double prefills, double prefillBesideDecodes) {
    /** Engines that do not share their cores. */
    public static final Contention NONE = new Contention(0, 0, 1);

    public Contention {
        for (double k : new double[]{decodes, prefills}) {
            if (!(k == 0 || (k >= 0.05 && k <= 4096))) throw new IllegalArgumentException("full-speed steps must be 0 (no contention) or in [0.05, 4096], got " + k);
        }
        if (!(prefillBesideDecodes >= 1 && prefillBesideDecodes <= 100)) {
            throw new IllegalArgumentException("a prefill's slowdown beside decodes must be in [1, 100], got " + prefillBesideDecodes);
        }
    }

    /** Whether these engines slow each other at all. */
    public boolean contends() {
        return decodes > 0 || prefills > 0;
    }

    /** The share of the host one running step demands (0: none). */
    double share(boolean prefill) {
        double k = prefill ? prefills : decodes;
        return k == 0 ? 0 : 1 / k;
    }
}
