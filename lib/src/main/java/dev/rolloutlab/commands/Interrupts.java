package dev.rolloutlab.commands;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ctrl-C (SIGINT) and SIGTERM for runs that must keep what they measured. The first signal asks the run to stop and the
 * JVM keeps running, so the run writes its files and report normally (a shutdown hook could not: the JVM refuses new
 * hooks and threads there, and report code that starts AWT fails with "Shutdown in progress"). A second signal quits at
 * once.
 *
 * <p>The JDK's only way to handle a signal is {@code sun.misc.Signal} in {@code jdk.unsupported}; it is reached by
 * reflection so that compiling a script prints no warning about internal API.
 */
final class Interrupts {
    /** Exit code of a run stopped by a signal, as a shell reports it (128 + SIGINT). */
    public static final int EXIT_CODE = 130;

    private Interrupts() {}

    /** Installs the handlers; {@code stop} runs once, on its own thread, at the first signal. */
    public static void onInterrupt(String what, Runnable stop) {
        AtomicInteger count = new AtomicInteger();
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Method getName = signal.getMethod("getName");
            Object handler = Proxy.newProxyInstance(
                    Interrupts.class.getClassLoader(), new Class<?>[] {handlerType}, (proxy, m, args) -> {
                        if (!m.getName().equals("handle")) return m.invoke(count, args); // Object's methods
                        if (count.incrementAndGet() == 1) {
                            System.err.println(what + ": stopping on SIG" + getName.invoke(args[0])
                                    + "; writing what was measured (again to quit at once)");
                            Thread.ofPlatform().name("interrupt").start(stop);
                        } else {
                            Runtime.getRuntime().halt(EXIT_CODE);
                        }
                        return null;
                    });
            Method handle = signal.getMethod("handle", signal, handlerType);
            for (String name : new String[] {"INT", "TERM"}) {
                handle.invoke(null, signal.getConstructor(String.class).newInstance(name), handler);
            }
        } catch (ReflectiveOperationException e) {
            // a JDK without jdk.unsupported: Ctrl-C then ends the run as any Java program, without the report
            System.err.println(
                    what + ": cannot catch Ctrl-C on this JDK (" + e + "); an interrupted run keeps only its logs");
        }
    }
}
