package dev.rolloutlab.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Processor sharing among simulated engines of one process: steps beyond the host's room take proportionally longer. */
class SharedCoresTest {
    @Test
    void fourStepsOnRoomForTwoTakeTwiceTheirTimeAndOnRoomForFourTheirOwn() throws Exception {
        assertEquals(120, wallMs(4, 60, 0.5), 120 * 0.2, "4 steps of 60 ms, 2 at full speed: each runs at half speed");
        assertEquals(60, wallMs(4, 60, 0.25), 60 * 0.25, "room for all four: no slowdown");
    }

    @Test
    void stepsThatSlowEachOtherMoreThanTheirNumberStillRunAtFullSpeedAlone() throws Exception {
        assertEquals(60, wallMs(1, 60, 1.5), 60 * 0.25, "alone: full speed, whatever its share");
        assertEquals(180, wallMs(2, 60, 1.5), 180 * 0.2, "two together demand 3 hosts: a third of the speed each");
    }

    @Test
    void aStepSpeedsUpWhenTheOthersFinish() throws Exception {
        // one 100 ms step beside a 20 ms one on room for 1: both at half speed until 40 ms, when the short one is done;
        // the long one has 80 ms of work left then, at full speed: it ends at 120 ms
        SharedCores cores = SharedCores.PROCESS;
        CountDownLatch go = new CountDownLatch(1);
        Thread shortStep = Thread.ofPlatform().start(() -> {
            await(go);
            cores.run(20_000_000, 1);
        });
        long[] took = new long[1];
        Thread longStep = Thread.ofPlatform().start(() -> {
            await(go);
            long t0 = System.nanoTime();
            cores.run(100_000_000, 1);
            took[0] = (System.nanoTime() - t0) / 1_000_000;
        });
        go.countDown();
        shortStep.join();
        longStep.join();
        assertEquals(120, took[0], 120 * 0.15);
    }

    /** Wall time until {@code n} steps of {@code ms} demanding {@code share} each, started together, have all finished. */
    private static long wallMs(int n, long ms, double share) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ts.add(Thread.ofPlatform().start(() -> {
                await(go);
                SharedCores.PROCESS.run(ms * 1_000_000, share);
            }));
        }
        long t0 = System.nanoTime();
        go.countDown();
        for (Thread t : ts) t.join();
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static void await(CountDownLatch l) {
        try {
            l.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
