package dev.rolloutlab.commands;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

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
        install(what, signal -> {
            if (count.incrementAndGet() == 1) {
                System.err.println(
                        what + ": stopping on SIG" + signal + "; writing what was measured (again to quit at once)");
                Thread.ofPlatform().name("interrupt").start(stop);
            } else {
                Runtime.getRuntime().halt(EXIT_CODE);
            }
        });
    }

    /**
     * Passes every signal on to {@code child} as SIGTERM, which it handles as Ctrl-C: the first stops it with what it
     * measured, a second quits it at once. This JVM then ends when the child does, with its exit code.
     */
    public static void forwardTo(String what, Process child) {
        install(what, signal -> child.destroy());
    }

    private static void install(String what, Consumer<String> onSignal) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Method getName = signal.getMethod("getName");
            Object handler = Proxy.newProxyInstance(
                    Interrupts.class.getClassLoader(), new Class<?>[] {handlerType}, (proxy, m, args) -> {
                        if (!m.getName().equals("handle")) return m.invoke(onSignal, args); // Object's methods
                        onSignal.accept((String) getName.invoke(args[0]));
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
