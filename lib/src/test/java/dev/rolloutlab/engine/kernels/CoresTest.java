package dev.rolloutlab.engine.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Claimed chunks: every item runs exactly once, whoever claims it, and a worker's failure reaches the caller. */
class CoresTest {
    private static final long WORTH_SPLITTING = 1L << 40;

    @ParameterizedTest(name = "{0} items")
    @ValueSource(ints = {2, 3, 17, 1000, 100_003})
    void everyItemRunsExactlyOnce(int n) {
        AtomicIntegerArray runs = new AtomicIntegerArray(n);
        for (int round = 0; round < 20; round++) Cores.parallelFor(n, WORTH_SPLITTING, runs::incrementAndGet);
        for (int i = 0; i < n; i++) assertEquals(20, runs.get(i), "item " + i);
    }

    @ParameterizedTest(name = "failing item {0}")
    @ValueSource(ints = {0, 500, 999})
    void aFailureInAnyItemIsThrownToTheCaller(int failing) {
        var e = assertThrows(
                IllegalStateException.class,
                () -> Cores.parallelFor(1000, WORTH_SPLITTING, i -> {
                    if (i == failing) throw new IllegalStateException("item " + i);
                }));
        assertEquals("item " + failing, e.getMessage());
    }
}
