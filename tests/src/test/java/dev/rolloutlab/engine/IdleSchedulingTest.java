package dev.rolloutlab.engine;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.engine.kernels.Cores;
import dev.rolloutlab.engine.kernels.IdleScheduling;
import dev.rolloutlab.testing.TestModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The engine computes in Linux's idle scheduling class, read from the kernel by the very threads that compute: the
 * scheduler thread (it emits the tokens) and the kernel workers (they run the chunks of a parallel call).
 */
class IdleSchedulingTest {
    /** {@code SCHED_IDLE} in {@code sched.h}. */
    private static final int SCHED_IDLE = 5;

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

    @Test
    void theSchedulerThreadComputesInTheIdleClass() {
        Map<String, Integer> policies = new ConcurrentHashMap<>();
        try (InProcessEngine engine = InProcessEngine.open(TestModels.tiny())) {
            engine.submit(
                            new GenerationRequest(engine.tokenizer().encode("idle"), 1, SamplingParams.of(2, 0, 1L)),
                            (sample, id, lp, version, text) ->
                                    policies.put(Thread.currentThread().getName(), policyOfCallingThread()))
                    .join();
        }
        assertNull(IdleScheduling.unavailable(), "chrt must be on this machine (util-linux)");
        assertEquals(Map.of("engine-in-process", SCHED_IDLE), policies);
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
