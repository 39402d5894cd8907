package dev.rolloutlab.sim;

/**
 * How the simulated engines of one process slow each other: how many steps of each kind run at full speed at once (more
 * share the cores, see {@link SharedCores}; 0 when the engines do not contend, one per host), and how much slower or
 * faster than its share a prefill runs beside decoding engines. Longer prefills contend more: on our engine 4 prefills
 * at once on 2 cores took 2.8 times their time alone at 8 tokens, 2.9 at 32 and 3.9 at 128, and one share for all put
 * the longer prompts' time to first token 28 % low; a prefill's share grows by {@code prefillShareSlope} per prompt
 * token.
 *
 * @param decodes decode steps at full speed at once
 * @param prefills prefills at full speed at once, for an empty prompt
 * @param prefillShareSlope the share of the host a prefill demands grows by this much per prompt token
 * @param prefillBesideDecodes how many times slower than its share a prefill runs while decode steps run (1: as its
 *     share)
 */
public record Contention(double decodes, double prefills, double prefillShareSlope, double prefillBesideDecodes) {
    /** Engines that do not share their cores. */
    public static final Contention NONE = new Contention(0, 0, 0, 1);

    public Contention {
        for (double k : new double[] {decodes, prefills}) {
            if (!(k == 0 || (k >= 0.05 && k <= 4096)))
                throw new IllegalArgumentException(
                        "full-speed steps must be 0 (no contention) or in [0.05, 4096], got " + k);
        }
        if (!(prefillShareSlope >= 0 && prefillShareSlope <= 1))
            throw new IllegalArgumentException(
                    "prefill share slope must be in [0, 1] per token, got " + prefillShareSlope);
        if (!(prefillBesideDecodes >= 0.05 && prefillBesideDecodes <= 100)) {
            throw new IllegalArgumentException(
                    "a prefill's slowdown beside decodes must be in [0.05, 100], got " + prefillBesideDecodes);
        }
    }

    /** Whether these engines slow each other at all. */
    public boolean contends() {
        return decodes > 0 || prefills > 0;
    }

    /**
     * The share of the host a step demands while it runs: a prefill's and a decode's, weighted by their time alone (0:
     * none).
     */
    double share(int prefillTokens, double prefillMs, double decodeMs) {
        double total = prefillMs + decodeMs;
        if (!contends() || total <= 0) return 0;
        double prefill = prefills == 0 ? 0 : 1 / prefills + prefillShareSlope * prefillTokens;
        return (prefillMs * prefill + decodeMs * inverse(decodes)) / total;
    }

    private static double inverse(double k) {
        return k == 0 ? 0 : 1 / k;
    }
}
