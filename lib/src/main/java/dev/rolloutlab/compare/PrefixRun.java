package dev.rolloutlab.compare;

/**
 * One leg in one round, run at {@code slot} of the round's schedule (the reference runs at every even slot). CPU is
 * each of the experiment's processes' over the leg: this JVM (the load generator, and the engines of the in-process
 * legs), serve, and the balancers; {@code routedByGuess} is the share a prefix-keeping balancer routed by its guess
 * ({@link RoutingGuess}), NaN on other legs; each leg carries the others' idling alike. The engines' steps over the leg
 * ({@link EngineSteps}) say how it batched: sequences decoded per step, and the steps' wall time per output token. A
 * row of {@code prefix_rounds.csv}.
 */
public record PrefixRun(
        String leg,
        String routing,
        int round,
        int slot,
        int requests,
        int failed,
        double outputTokPerSec,
        double meanTtftMs,
        double meanE2elMs,
        double computedPrefillPerSample,
        double cacheHitRate,
        double routedByGuess,
        long outputTokens,
        double wallMs,
        double clientCpuMs,
        double serveCpuMs,
        double lbCpuMs,
        double stolenMs,
        double outputTokPerCpuSec,
        long engineSteps,
        long decodeRows,
        double engineStepMs,
        boolean counted) {
    /** A run that lost more of the machine's CPU to the hypervisor than this is measured again. */
    static final int DISTURBED_PCT = 10;
    /** How many times one slot is measured again after a disturbed run, at most. */
    static final int REMEASURE = 2;

    /**
     * Whether the hypervisor stole more than {@value #DISTURBED_PCT} % of the machine's CPU ({@code cores} × its wall
     * time) during this run: its wall-clock throughput then says more about the neighbours than the leg (one reference
     * run lost 10.6 s of CPU in 7 s and ran at 40 % of the runs around it).
     */
    boolean disturbed(int cores) {
        return stolenMs > DISTURBED_PCT / 100.0 * cores * wallMs;
    }

    /** This run, kept in the results but not counted. */
    PrefixRun uncounted() {
        return new PrefixRun(
                leg,
                routing,
                round,
                slot,
                requests,
                failed,
                outputTokPerSec,
                meanTtftMs,
                meanE2elMs,
                computedPrefillPerSample,
                cacheHitRate,
                routedByGuess,
                outputTokens,
                wallMs,
                clientCpuMs,
                serveCpuMs,
                lbCpuMs,
                stolenMs,
                outputTokPerCpuSec,
                engineSteps,
                decodeRows,
                engineStepMs,
                false);
    }
}
