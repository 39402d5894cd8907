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
}
