package dev.rolloutlab.util;

import java.util.concurrent.CompletableFuture;

/**
 * Ties a child JVM to the JVM that started it: the parent passes {@link #flag()}, and the child, calling
 * {@link #watch()} first thing, exits when that JVM ends, however it ended (a killed run left its balancers serving,
 * holding their ports and CPU into the next run).
 */
public final class ExitWithParent {
    private static final String PROPERTY = "rolloutlab.exit-with";

    private ExitWithParent() {}

    /** The JVM flag that names this JVM as the one its child exits with. */
    public static String flag() {
        return "-D" + PROPERTY + "=" + ProcessHandle.current().pid();
    }

    /**
     * In a JVM started with {@link #flag()}: exits, running its shutdown hooks, when the JVM named there ends. Does
     * nothing in a JVM started otherwise.
     */
    public static void watch() {
        Long pid = Long.getLong(PROPERTY);
        if (pid == null) return;
        ProcessHandle.of(pid)
                .map(ProcessHandle::onExit)
                .orElse(CompletableFuture.completedFuture(null))
                .thenRun(() -> {
                    System.err.println("the JVM that started this one (pid " + pid + ") has ended; stopping");
                    System.exit(143);
                });
    }
}
