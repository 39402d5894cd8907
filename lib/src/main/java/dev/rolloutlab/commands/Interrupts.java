package dev.rolloutlab.commands;

import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;

/**
 * Ctrl-C (SIGINT) and SIGTERM for runs that must keep what they measured. The first signal asks the run to stop and
 * the JVM keeps running, so the run writes its files and report normally (a shutdown hook could not: the JVM refuses
 * new hooks and threads there, and report code that starts AWT fails with "Shutdown in progress"). A second signal
 * quits at once.
 */
final class Interrupts {
    /** Exit code of a run stopped by a signal, as a shell reports it (128 + SIGINT). */
    public static final int EXIT_CODE = 130;

    private Interrupts() {}

    /** Installs the handlers; {@code stop} runs once, on its own thread, at the first signal. */
    public static void onInterrupt(String what, Runnable stop) {
        AtomicInteger count = new AtomicInteger();
        var handler = (sun.misc.SignalHandler) sig -> {
            if (count.incrementAndGet() == 1) {
                System.err.println(what + ": stopping on SIG" + sig.getName()
                        + "; writing what was measured (again to quit at once)");
                Thread.ofPlatform().name("interrupt").start(stop);
            } else {
                Runtime.getRuntime().halt(EXIT_CODE);
            }
        };
        Signal.handle(new Signal("INT"), handler);
        Signal.handle(new Signal("TERM"), handler);
    }
}
