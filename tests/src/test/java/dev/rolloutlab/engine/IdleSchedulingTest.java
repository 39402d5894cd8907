package dev.rolloutlab.engine;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.engine.kernels.Cores;
import dev.rolloutlab.engine.kernels.IdleScheduling;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.sim.TimingModel;
import dev.rolloutlab.testing.TestModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The engine computes in Linux's idle scheduling class, read from the kernel by the very threads that compute: the
 * scheduler thread (it emits the tokens) and the kernel workers (they run the chunks of a parallel call). A simulated
 * engine, which only waits for its clock, stays in the normal class.
 */
class IdleSchedulingTest {
    /** Policies as {@code sched.h} numbers them. */
    private static final int SCHED_IDLE = 5, SCHED_NORMAL = 0;

    /** The scheduling policy of the calling thread: field 41 of its {@code stat}, counted after the command's ")". */
    private static int policyOfCallingThread() {
        try {
            String stat = Files.readString(Path.of("/proc/thread-self/stat"));
            String[] after = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(after[41 - 3]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The policy of the thread that emitted a short request's tokens on {@code engine}, keyed by its name. */
    private static Map<String, Integer> emittingThreads(InProcessEngine engine) {
        Map<String, Integer> policies = new ConcurrentHashMap<>();
        try (engine) {
            engine.submit(
                            new GenerationRequest(engine.tokenizer().encode("idle"), 1, SamplingParams.of(2, 0, 1L)),
                            (sample, id, lp, version, text) ->
                                    policies.put(Thread.currentThread().getName(), policyOfCallingThread()))
                    .join();
        }
        return policies;
    }

    @Test
    void theSchedulerThreadComputesInTheIdleClass() {
        Map<String, Integer> policies = emittingThreads(InProcessEngine.open(TestModels.tiny()));
        assertNull(IdleScheduling.unavailable(), "chrt must be on this machine (util-linux)");
        assertEquals(Map.of("engine-in-process", SCHED_IDLE), policies);
    }

    @Test
    void aSimulatedEngineWaitsForItsClockInTheNormalClass() {
        TimingModel instant = new TimingModel(0, 0, 0, 0, 0, 64);
        Map<String, Integer> policies = emittingThreads(new InProcessEngine(
                Checkpoint.load(TestModels.tiny()),
                new EngineOptions(64, 1024, 0, instant, EngineOptions.AUTO_PREFIX_CACHE, Duration.ZERO)));
        assertEquals(Map.of("engine-in-process", SCHED_NORMAL), policies);
    }

    @Test
    void kernelWorkersComputeInTheIdleClass() {
        Map<String, Integer> workers = new ConcurrentHashMap<>();
        long deadline = System.nanoTime() + 30_000_000_000L;
        // a worker takes chunks only after it started; until one took any, the caller may have claimed them all
        while (workers.isEmpty() && System.nanoTime() < deadline) {
            Cores.parallelFor(10_000, 1L << 40, i -> {
                String name = Thread.currentThread().getName();
                if (name.startsWith("engine-kernel-")) workers.putIfAbsent(name, policyOfCallingThread());
            });
        }
        assertFalse(workers.isEmpty(), "no kernel worker ran a chunk in 30 s");
        workers.forEach((name, policy) -> assertEquals(SCHED_IDLE, policy, name));
    }
}
