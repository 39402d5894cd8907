package dev.rolloutlab.results;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Percentiles against numpy's default ("linear") definition. The expected values were computed with numpy 2.4.6:
 * {@code float(np.percentile(np.array(a, dtype=float), p))}.
 */
class PercentileTest {
    static Stream<Arguments> numpy() {
        double[] oneToHundred = new double[100];
        for (int i = 0; i < 100; i++) oneToHundred[i] = i + 1;
        return Stream.of(
                Arguments.of(new double[] {1.0}, 50, 1.0),
                Arguments.of(new double[] {1.0, 2.0}, 50, 1.5),
                Arguments.of(new double[] {3.0, 1.0, 2.0}, 25, 1.5),
                Arguments.of(new double[] {1, 2, 3, 4}, 25, 1.75),
                Arguments.of(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90, 9.1),
                Arguments.of(oneToHundred, 99, 99.01),
                Arguments.of(new double[] {0.5, 0.25, 8.0, 3.0, 3.0}, 99, 7.8),
                Arguments.of(new double[] {10, 7, 4, 3, 2, 1}, 50, 3.5),
                Arguments.of(new double[] {2.5, 1.0, 9.75, 4.0, 6.5, 3.25, 8.0}, 10, 1.9000000000000001));
    }

    @org.junit.jupiter.api.Test
    void theMedianOfValuesInAnyOrderLeavesThemInTheirOrder() {
        double[] odd = {9, 1, 5}, even = {10, 7, 4, 3, 2, 1};
        assertEquals(5, Percentiles.median(odd));
        assertEquals(3.5, Percentiles.median(even));
        assertEquals("[9.0, 1.0, 5.0]", Arrays.toString(odd), "the caller's array is not sorted in place");
        assertEquals(Double.NaN, Percentiles.median(new double[0]));
    }

    @org.junit.jupiter.api.Test
    void aPercentileIsReportedOnlyWithTenSamplesBeyondIt() {
        double[] hundred = new double[100], thousand = new double[1000];
        for (int i = 0; i < 1000; i++) thousand[i] = i;
        for (int i = 0; i < 100; i++) hundred[i] = i;
        assertEquals(Double.NaN, Percentiles.reported(hundred, 99));
        assertEquals(89.1, Percentiles.reported(hundred, 90), 1e-9);
        assertEquals(989.01, Percentiles.reported(thousand, 99), 1e-9);
        assertEquals(Double.NaN, Percentiles.reported(new double[19], 50));
    }

    @ParameterizedTest
    @MethodSource("numpy")
    void matchesNumpysLinearDefinition(double[] values, double p, double expected) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        assertEquals(expected, Percentiles.pct(sorted, p), 1e-12);
    }

    /**
     * Selection puts at k what a sort puts there, on shapes that break naive pivots (sorted, reversed, all equal, organ
     * pipe), on many ties, and with a NaN, which sorts last; the median and the interquartile mean built on it equal
     * their definitions on a sorted copy.
     */
    @org.junit.jupiter.api.Test
    void selectionAgreesWithASortOnEveryShape() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        for (int trial = 0; trial < 2_000; trial++) {
            int n = 1 + r.nextInt(trial < 1_000 ? 12 : 400);
            double[] xs = new double[n];
            int shape = trial % 6;
            for (int i = 0; i < n; i++)
                xs[i] = switch (shape) {
                    case 0 -> r.nextDouble() * 100;
                    case 1 -> r.nextInt(4); // many ties
                    case 2 -> i;
                    case 3 -> n - i;
                    case 4 -> 7;
                    default -> Math.min(i, n - i);
                };
            if (trial % 97 == 0) xs[r.nextInt(n)] = Double.NaN;
            double[] sorted = xs.clone();
            Arrays.sort(sorted);
            int k = r.nextInt(n);
            double[] a = xs.clone();
            Percentiles.select(a, 0, n, k);
            assertEquals(sorted[k], a[k], "shape " + shape + ", n " + n + ", k " + k);
            double[] back = a.clone();
            Arrays.sort(back);
            assertEquals(Arrays.toString(sorted), Arrays.toString(back), "the values themselves are kept");
            for (int i = 0; i < n; i++) {
                if (Double.isNaN(a[k])) break;
                if (i < k) org.junit.jupiter.api.Assertions.assertTrue(a[i] <= a[k], "before k: " + a[i]);
                if (i > k) org.junit.jupiter.api.Assertions.assertFalse(a[i] < a[k], "after k: " + a[i]);
            }
            assertEquals(Percentiles.pct(sorted, 50), Percentiles.medianInPlace(xs.clone(), n), "median, n " + n);
            int from = n / 4, to = n - n / 4;
            double middle = 0;
            for (int i = from; i < to; i++) middle += sorted[i];
            assertEquals(
                    middle / (to - from),
                    Confidence.interquartileMean(xs.clone(), n),
                    Double.isNaN(middle) ? 0 : 1e-12 * Math.max(1, Math.abs(middle)),
                    "interquartile mean, n " + n);
        }
    }
}
