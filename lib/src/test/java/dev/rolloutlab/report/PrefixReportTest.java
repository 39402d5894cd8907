package dev.rolloutlab.report;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Verdict;
import org.junit.jupiter.api.Test;

/**
 * The shared-prefix report pairs each leg with in-process by round as a ratio, so a round that slows both moves none.
 */
class PrefixReportTest {
    @Test
    void aRoundThatHalvesEveryLegLeavesTheRatioAndItsVerdictWhereTheyWere() {
        // the middle round was stolen from: both legs ran at half speed, the leg 25 % below in-process throughout
        double[] inProcess = {100, 50, 100}, leg = {80, 40, 80};
        Confidence.Interval ratio = PrefixReport.percentMore(inProcess, leg);
        assertEquals(25, ratio.estimate(), 1e-9);
        assertEquals(25, ratio.low(), 1e-9);
        assertEquals(25, ratio.high(), 1e-9);
        assertEquals(Verdict.CONFIRMED, Verdict.of(ratio, 100 * PrefixReport.THRESHOLD));
        // the same rounds as differences reach across the threshold: the halved round's gap is half the others'
        Confidence.Interval difference = Confidence.pairedDifference(inProcess, leg, 0.95);
        assertEquals(Verdict.UNDECIDED, Verdict.of(difference, PrefixReport.THRESHOLD * Confidence.mean(inProcess)));
    }

    @Test
    void aLegAsGoodAsInProcessInEveryRoundIsNegligibleEvenWhenRoundsDiffer() {
        double[] inProcess = {120, 60, 90}, leg = {118, 61, 88};
        assertEquals(
                Verdict.NEGLIGIBLE, Verdict.of(PrefixReport.percentMore(inProcess, leg), 100 * PrefixReport.THRESHOLD));
    }
}
