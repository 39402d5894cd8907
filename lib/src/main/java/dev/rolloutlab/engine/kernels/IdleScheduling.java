package dev.rolloutlab.engine.kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Puts the engine's compute threads in Linux's idle scheduling class (SCHED_IDLE): any other thread of the machine that
 * wakes (serve's HTTP threads, the balancer's, a trainer's or a load generator's) then takes a core from a forward pass
 * at once, as it would on a host whose forward passes run on an accelerator. Both modes run the same engine code, so
 * both get it. A simulated engine's scheduler stays in the normal class: it computes nothing, and its clock's waits
 * must end on time.
 *
 * <p>Why: on 2 cores an answer that arrived while another request's forward pass held both cores waited for that pass's
 * time slice at each hand-off (the kernel's EEVDF scheduler lets a running task finish its slice; nice 10 did not
 * change that), so HTTP's tax read 30-50 % more and moved with how answers happened to meet forward passes. With
 * nothing else runnable the idle class costs the engine nothing: it still gets every core.
 */
public final class IdleScheduling {
    private static final AtomicBoolean SAID = new AtomicBoolean();
    private static volatile String unavailable;

    private IdleScheduling() {}

    /**
     * Moves the calling thread into the idle class, or leaves it where it is when this machine cannot (not Linux, no
     * {@code chrt}); the first such failure is said once on stderr and kept for {@link #unavailable()}.
     */
    public static void enterCallingThread() {
        if (unavailable != null) return;
        try {
            // /proc/thread-self links to "<pid>/task/<tid>": the only way to a thread's kernel id without native code
            String tid = Files.readSymbolicLink(Path.of("/proc/thread-self"))
                    .getFileName()
                    .toString();
            Process p = new ProcessBuilder("chrt", "--idle", "--pid", "0", tid)
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0)
                fail("chrt --idle exited " + (p.isAlive() ? "late" : p.exitValue()) + ": " + out);
        } catch (IOException | UnsupportedOperationException e) {
            fail(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Why the engine's threads run in the normal class on this machine; null when they run in the idle class. */
    public static String unavailable() {
        return unavailable;
    }

    private static void fail(String why) {
        unavailable = why;
        if (SAID.compareAndSet(false, true))
            System.err.println("engine: compute threads stay in the normal scheduling class (" + why
                    + "): HTTP's threads wait for forward passes to yield a core");
    }
}
