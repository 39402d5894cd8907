package dev.rolloutlab.process;

import static org.junit.jupiter.api.Assertions.*;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The JIT compilers' CPU of another JVM, read from /proc: a JVM that compiles everything it runs shows it, one that
 * compiles nothing shows none however busy it is, and a compiler that has gone quiet reads zero.
 */
class CompilerCpuTest {
    /**
     * Spins until its thread has used the given ms of CPU (not of wall time: on a loaded machine the two differ), says
     * "ready", then waits for its stdin to close.
     */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            var threads = java.lang.management.ManagementFactory.getThreadMXBean();
            long until = threads.getCurrentThreadCpuTime() + Long.parseLong(args[0]) * 1_000_000;
            long x = 0;
            while (threads.getCurrentThreadCpuTime() < until) x += Long.numberOfTrailingZeros(x + System.nanoTime());
            System.out.println("ready " + (x & 1));
            System.out.flush();
            while (System.in.read() >= 0) {}
        }
    }

    @Test
    void aJvmCompilingEverythingShowsItsCompilersThenQuietWhenIdle() throws Exception {
        try (Running child = Running.start("-Xcomp", 200)) {
            CompilerCpu compilers = new CompilerCpu(List.of(child.pid()));
            child.awaitReady(); // its threads were not there when counting began: they count from zero
            double compiled = compilers.sinceLastMs();
            assertTrue(compiled >= 100, "-Xcomp compiles every method it runs; counted " + compiled + " ms");
            assertTrue(compiled <= CpuTime.ofMs(child.pid()), "never more than the whole process used");
            child.awaitIdle(compilers);
        }
    }

    @Test
    void aBusyJvmThatCompilesNothingShowsNoCompilerTime() throws Exception {
        try (Running child = Running.start("-Xint", 600)) {
            CompilerCpu compilers = new CompilerCpu(List.of(child.pid()));
            child.awaitReady();
            // its thread spun 600 ms of CPU; the process's count comes in 10 ms ticks
            assertTrue(CpuTime.ofMs(child.pid()) >= 580, "the child spun for 600 ms of CPU");
            assertEquals(0, compilers.sinceLastMs(), "an interpreted JVM has no compiler threads");
        }
    }

    @Test
    void aProcessThatIsGoneOrNeverWasReadsNothing() {
        CompilerCpu compilers = new CompilerCpu(List.of(-1L, Long.MAX_VALUE));
        assertEquals(0, compilers.sinceLastMs());
    }

    private record Running(Process process, BufferedReader out) implements AutoCloseable {
        static Running start(String mode, int spinMs) throws Exception {
            String java = ProcessHandle.current().info().command().orElse("java");
            Process p = new ProcessBuilder(
                            java,
                            mode,
                            "-cp",
                            System.getProperty("java.class.path"),
                            Child.class.getName(),
                            String.valueOf(spinMs))
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            return new Running(
                    p, new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
        }

        long pid() {
            return process.pid();
        }

        void awaitReady() throws Exception {
            String line = out.readLine();
            assertNotNull(line, "the child ended before it was ready");
            assertTrue(line.startsWith("ready"), line);
        }

        /** Its compilers read zero over some window once it waits on stdin (a few tries: compiles may trail). */
        void awaitIdle(CompilerCpu compilers) throws Exception {
            double last = Double.NaN;
            for (int i = 0; i < 50; i++) {
                process.waitFor(100, java.util.concurrent.TimeUnit.MILLISECONDS); // a window of a waiting JVM
                last = compilers.sinceLastMs();
                if (last == 0) return;
            }
            fail("its compilers never went quiet: " + last + " ms in the last window");
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly();
        }
    }
}
