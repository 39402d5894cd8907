package dev.rolloutlab.compare;

import java.util.List;

/**
 * A process whose time a run measures (run.json's {@code processes}): what it runs, its pid and the JVM flags it was
 * started with, so a reader can see whether the processes compared were started alike.
 */
public record MeasuredProcess(String role, long pid, List<String> jvmFlags) {
    /** The role of the JVM that hosts the in-process engines and the load generator: compare's measuring child. */
    public static final String IN_PROCESS =
            "in-process engines and the load generator (compare's measuring JVM, started like serve)";
}
