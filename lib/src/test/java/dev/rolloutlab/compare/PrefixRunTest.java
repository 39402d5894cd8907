package dev.rolloutlab.compare;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A shared-prefix run the hypervisor stole more than a tenth of the machine's CPU from is measured again: kept in the
 * results, left out of every figure.
 */
class PrefixRunTest {
    private static PrefixRun run(String leg, double tokPerSec, double wallMs, double stolenMs) {
        return run(leg, tokPerSec, wallMs, stolenMs, 0.9);
    }

    private static PrefixRun run(String leg, double tokPerSec, double wallMs, double stolenMs, double guessed) {
        return new PrefixRun(
                leg, "r", 1, 0, 32, 0, tokPerSec, 1, 1, 74, 0.85, guessed, 1024, wallMs, 1, 1, 1, stolenMs, 100, 40,
                300, 620.5, true);
    }

    @Test
    void aRunIsDisturbedWhenTheHypervisorStoleMoreThanATenthOfTheMachinesCpu() {
        assertTrue(run("a", 100, 5_000, 2_000).disturbed(2), "20 % of 2 cores × 5 s");
        assertFalse(run("a", 100, 5_000, 1_000).disturbed(2), "exactly 10 %");
        assertFalse(run("a", 100, 5_000, 300).disturbed(2));
        assertTrue(run("a", 100, 5_000, 600).disturbed(1), "12 % of one core");
        PrefixRun kept = run("a", 100, 5_000, 2_000).uncounted();
        assertFalse(kept.counted());
        assertEquals(
                run("a", 100, 5_000, 2_000),
                new PrefixRun(
                        kept.leg(),
                        kept.routing(),
                        kept.round(),
                        kept.slot(),
                        kept.requests(),
                        kept.failed(),
                        kept.outputTokPerSec(),
                        kept.meanTtftMs(),
                        kept.meanE2elMs(),
                        kept.computedPrefillPerSample(),
                        kept.cacheHitRate(),
                        kept.routedByGuess(),
                        kept.outputTokens(),
                        kept.wallMs(),
                        kept.clientCpuMs(),
                        kept.serveCpuMs(),
                        kept.lbCpuMs(),
                        kept.stolenMs(),
                        kept.outputTokPerCpuSec(),
                        kept.engineSteps(),
                        kept.decodeRows(),
                        kept.engineStepMs(),
                        true),
                "all else kept");
    }

    @Test
    void aLegsFiguresLeaveItsUncountedRunsOut() {
        List<PrefixFigure> f = PrefixFigure.of(
                List.of("a"),
                List.of(
                        run("a", 100, 5_000, 0),
                        run("a", 10, 5_000, 4_000).uncounted(),
                        run("a", 120, 5_000, 0, Double.NaN))); // its balancer's /metrics not read
        assertEquals(2, f.get(0).runs());
        assertEquals(110, f.get(0).outputTokPerSec(), 1e-9);
        assertEquals(0.9, f.get(0).routedByGuess(), 1e-9);
    }
}
