package dev.rolloutlab.report;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Verdict;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The shared-prefix report pairs each leg with in-process measured around it, as a ratio, so a stretch that slows both
 * moves none.
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

    @Test
    void eachLegIsHeldToTheReferenceRunAroundItNotToTheRoundsFirst() {
        // the machine slows steadily through every round; both legs run 5 % below the reference around them
        Table rounds = runs();
        for (int round = 1; round <= 3; round++) {
            double start = 100 + round; // rounds differ a little, so the interval has a width
            double[] ref = {start, 0.8 * start, 0.6 * start};
            add(rounds, PrefixReport.REFERENCE, round, 0, ref[0]);
            add(rounds, "a", round, 1, 0.95 * (ref[0] + ref[1]) / 2 * (1 + 0.01 * round));
            add(rounds, PrefixReport.REFERENCE, round, 2, ref[1]);
            add(rounds, "b", round, 3, 0.95 * (ref[1] + ref[2]) / 2 * (1 - 0.01 * round));
            add(rounds, PrefixReport.REFERENCE, round, 4, ref[2]);
        }
        double[] around = PrefixReport.referenceBeside(rounds, "b", "output_tok_per_sec");
        assertArrayEquals(new double[] {0.7 * 101, 0.7 * 102, 0.7 * 103}, around, 1e-9);
        double[] b = rounds.where(rounds.stringColumn("leg").isEqualTo("b"))
                .numberColumn("output_tok_per_sec")
                .asDoubleArray();
        Confidence.Interval held = PrefixReport.percentMore(around, b);
        assertEquals(Verdict.NEGLIGIBLE, Verdict.of(held, 100 * PrefixReport.THRESHOLD), held.toString());
        // held to each round's first reference run instead, the slowing machine reads as a confirmed cost
        double[] first = {101, 102, 103};
        assertEquals(Verdict.CONFIRMED, Verdict.of(PrefixReport.percentMore(first, b), 100 * PrefixReport.THRESHOLD));
    }

    @Test
    void aRunMeasuredAgainIsHeldToTheReferenceCountedAroundIt() {
        Table rounds = runs();
        add(rounds, PrefixReport.REFERENCE, 1, 0, 100);
        add(rounds, "a", 1, 1, 90);
        add(rounds, PrefixReport.REFERENCE, 1, 2, 20); // stolen from, then measured again
        rounds.booleanColumn("counted").set(2, false);
        add(rounds, PrefixReport.REFERENCE, 1, 2, 100);
        assertArrayEquals(new double[] {100}, PrefixReport.referenceBeside(rounds, "a", "output_tok_per_sec"), 1e-9);
    }

    /** An empty prefix_rounds.csv with the columns these tests read. */
    private static Table runs() {
        return Table.create(
                StringColumn.create("leg"),
                DoubleColumn.create("round"),
                DoubleColumn.create("slot"),
                DoubleColumn.create("output_tok_per_sec"),
                BooleanColumn.create("counted"));
    }

    private static void add(Table t, String leg, int round, int slot, double tokPerSec) {
        t.booleanColumn("counted").append(true);
        t.stringColumn("leg").append(leg);
        t.doubleColumn("round").append(round);
        t.doubleColumn("slot").append(slot);
        t.doubleColumn("output_tok_per_sec").append(tokPerSec);
    }
}
