package dev.rolloutlab.results;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Intervals and verdicts against answers computed independently (scipy 1.x, by hand, or the normal approximation). */
class ConfidenceTest {

    /** Two rounds far apart give a t interval reaching below zero; a throughput's or a lag's stops at 0. */
    @Test
    void anIntervalOfANonNegativeFigureStopsAtZero() {
        Confidence.Interval t = Confidence.tMean(new double[] {100, 900}, 0.95);
        assertTrue(t.low() < 0, "the t interval itself: " + t);
        Confidence.Interval cut = t.atLeast(0);
        assertEquals(0, cut.low());
        assertEquals(t.high(), cut.high());
        assertEquals(500, cut.estimate());
        Confidence.Interval above = Confidence.tMean(new double[] {500, 510}, 0.95);
        assertTrue(above.low() > 0);
        assertEquals(above, above.atLeast(0), "an interval above the floor is left as it is");
        assertTrue(
                Double.isNaN(Confidence.tMean(new double[] {5}, 0.95).atLeast(0).low()), "no interval stays none");
    }

    @Test
    void tIntervalMatchesScipy() {
        // scipy: t.ppf(0.975, 4) = 2.7764451051977934; mean 3, sd 1.5811 -> [1.0367568385224428, 4.963243161477557]
        Confidence.Interval i = Confidence.tMean(new double[] {1, 2, 3, 4, 5}, 0.95);
        assertEquals(3.0, i.estimate(), 1e-12);
        assertEquals(1.0367568385224428, i.low(), 1e-9);
        assertEquals(4.963243161477557, i.high(), 1e-9);
    }

    @Test
    void pairedDifferenceMatchesScipy() {
        // differences 0.3, 1.4, 0.1, 0.5: mean 0.575, t.ppf(0.975, 3) = 3.182446305284263 -> [-0.3379332272927664,
        // 1.4879332272927668]
        Confidence.Interval d = Confidence.pairedDifference(
                new double[] {10.2, 11.5, 9.8, 10.9}, new double[] {9.9, 10.1, 9.7, 10.4}, 0.95);
        assertEquals(0.575, d.estimate(), 1e-12);
        assertEquals(-0.3379332272927664, d.low(), 1e-9);
        assertEquals(1.4879332272927668, d.high(), 1e-9);
        assertThrows(
                IllegalArgumentException.class,
                () -> Confidence.pairedDifference(new double[] {1}, new double[] {1, 2}, 0.95));
    }

    @Test
    void aSeededBootstrapIsRepeatableAndAgreesWithTheNormalApproximation() {
        SplittableRandom r = new SplittableRandom(7);
        double[] xs = new double[2000];
        for (int i = 0; i < xs.length; i++)
            xs[i] = 10 + 2 * Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
        Confidence.Interval a = Confidence.bootstrapMean(xs, 2000, 42, 0.95),
                b = Confidence.bootstrapMean(xs, 2000, 42, 0.95);
        assertEquals(a, b, "same data, same seed, same interval");
        double m = Confidence.mean(xs), ss = 0;
        for (double x : xs) ss += (x - m) * (x - m);
        double normalHalf = 1.959963984540054 * Math.sqrt(ss / (xs.length - 1)) / Math.sqrt(xs.length);
        assertTrue(a.low() < m && m < a.high());
        assertEquals(
                normalHalf,
                a.halfWidth(),
                normalHalf * 0.15,
                "bootstrap half-width " + a.halfWidth() + " vs normal " + normalHalf);
        assertEquals(m, (a.low() + a.high()) / 2, normalHalf * 0.2, "centred on the mean");
    }

    @Test
    void theBootstrapOfTheMedianAgreesWithItsAsymptoticStandardError() {
        // the sample median of n normal values has standard error sqrt(pi/2) * sigma / sqrt(n) (1.2533 * 2 /
        // sqrt(2001))
        SplittableRandom r = new SplittableRandom(11);
        double[] xs = new double[2001];
        for (int i = 0; i < xs.length; i++)
            xs[i] = 10 + 2 * Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
        Confidence.Interval i = Confidence.bootstrapMedian(xs, 2000, 5, 0.95);
        double[] sorted = xs.clone();
        Arrays.sort(sorted);
        assertEquals(sorted[1000], i.estimate(), 1e-12, "the estimate is the sample median");
        double half = 1.959963984540054 * Math.sqrt(Math.PI / 2) * 2 / Math.sqrt(xs.length);
        assertTrue(i.low() < i.estimate() && i.estimate() < i.high(), i.toString());
        assertEquals(
                half, i.halfWidth(), half * 0.25, "bootstrap half-width " + i.halfWidth() + " vs asymptotic " + half);
        assertEquals(i, Confidence.bootstrapMedian(xs, 2000, 5, 0.95), "seeded: repeatable");
    }

    @Test
    void aBlockedDifferenceAveragesEachBlockThenTakesTheTIntervalOverBlocks() {
        // differences 1, 3 | 1, 5 -> block means 2 and 3: mean 2.5, sd 0.7071, t.ppf(0.975, 1) = 12.706204736174698
        Confidence.Interval d = Confidence.blockedDifference(
                new long[] {7, 7, 9, 9}, new double[] {10, 12, 11, 15}, new double[] {9, 9, 10, 10}, 0.95);
        assertEquals(2.5, d.estimate(), 1e-12);
        assertEquals(2.5 - 6.353102368087349, d.low(), 1e-9);
        assertEquals(2.5 + 6.353102368087349, d.high(), 1e-9);
        // one block per pair is the ordinary paired difference
        Confidence.Interval p = Confidence.pairedDifference(
                new double[] {10.2, 11.5, 9.8, 10.9}, new double[] {9.9, 10.1, 9.7, 10.4}, 0.95);
        assertEquals(
                p,
                Confidence.blockedDifference(
                        new long[] {0, 1, 2, 3},
                        new double[] {10.2, 11.5, 9.8, 10.9},
                        new double[] {9.9, 10.1, 9.7, 10.4},
                        0.95));
    }

    @Test
    void theInterquartileDifferenceIgnoresRareStallsAndItsIntervalWidensWhenRoundsDisagree() {
        // 3 rounds x 20 blocks x 4 pairs; b = 0, a = 1 ms plus a small spread, and 3 stalls of 50 ms on leg a
        int rounds = 3, blocks = 20, per = 4, n = rounds * blocks * per;
        long[] round = new long[n], block = new long[n];
        double[] a = new double[n], b = new double[n];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < n; i++) {
            round[i] = i / (blocks * per);
            block[i] = i / per;
            a[i] = 1 + 0.1 * (r.nextDouble() - 0.5);
        }
        a[5] += 50;
        a[100] += 50;
        a[200] += 50;
        double[] sorted = a.clone();
        Arrays.sort(sorted);
        double iqm = Arrays.stream(sorted, n / 4, n - n / 4).average().orElseThrow();
        Confidence.Interval d = Confidence.blockedInterquartileDifference(round, block, a, b, 2000, 17, 0.95);
        assertEquals(iqm, d.estimate(), 1e-12, "the mean of the middle half, by hand");
        assertEquals(1.0, d.estimate(), 0.05, "three stalls do not move it");
        assertEquals(
                1 + 150.0 / n,
                Confidence.blockedDifference(block, a, b, 0.95).estimate(),
                0.05,
                "where they move the plain mean by 0.6 ms");
        assertTrue(d.low() <= d.estimate() && d.estimate() <= d.high() && d.high() - d.low() < 0.1, d.toString());
        assertEquals(
                d,
                Confidence.blockedInterquartileDifference(round, block, a, b, 2000, 17, 0.95),
                "seeded: the same data give the same interval");
        // one round 0.5 ms slower than the others: the interval must reach across the rounds, as blocks alone do not
        for (int i = 0; i < blocks * per; i++) a[i] += 0.5;
        Confidence.Interval spread = Confidence.blockedInterquartileDifference(round, block, a, b, 2000, 17, 0.95);
        long[] oneRound = new long[n];
        Confidence.Interval blocksOnly =
                Confidence.blockedInterquartileDifference(oneRound, block, a, b, 2000, 17, 0.95);
        assertTrue(
                spread.high() - spread.low() > 2 * (blocksOnly.high() - blocksOnly.low()),
                "rounds " + spread + " vs blocks alone " + blocksOnly);
    }

    @Test
    void aBootstrapOverFewRoundsIsWidenedByWhatResamplingThemLoses() {
        // three rounds whose pairs differ by 0, 1 and 2 ms: the estimate is 1, and a resample is three draws of them
        int rounds = 3, per = 40;
        long[] round = new long[rounds * per], block = new long[rounds * per];
        double[] a = new double[rounds * per], b = new double[rounds * per];
        for (int i = 0; i < a.length; i++) {
            round[i] = i / per;
            block[i] = i / 4;
            a[i] = round[i];
        }
        Confidence.Interval d = Confidence.blockedInterquartileDifference(round, block, a, b, 4000, 5, 0.95);
        assertEquals(1, d.estimate(), 1e-12);
        // resampling three rounds: P(all three draws 0) = 1/27 > 2.5 %, so the 2.5th percentile of the resampled
        // interquartile means is 0 and the 97.5th is 2; the interval is sqrt(3/2) as wide around the estimate
        double widen = Math.sqrt(1.5);
        assertEquals(widen, Confidence.roundsCorrection(3), 1e-12);
        assertEquals(1 - widen, d.low(), 1e-9, d.toString());
        assertEquals(1 + widen, d.high(), 1e-9, d.toString());
        assertEquals(1, Confidence.roundsCorrection(1), "one round: blocks are all there is to resample");
        assertEquals(Math.sqrt(12 / 11.0), Confidence.roundsCorrection(12), 1e-12);
    }
}
