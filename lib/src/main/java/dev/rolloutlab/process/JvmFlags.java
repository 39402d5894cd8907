package dev.rolloutlab.process;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * The JVM flags that shape a measured process's speed — its garbage collector, heap, vector module and other
 * {@code -XX} options — so processes compared with each other can be shown to be started alike, or not. Properties
 * ({@code -D}) and the classpath do not change speed and are left out.
 */
public final class JvmFlags {
    private JvmFlags() {}

    /** This JVM's flags, with its garbage collector named even when it is the JVM's default. */
    public static List<String> current() {
        List<String> out = ofArguments(ManagementFactory.getRuntimeMXBean().getInputArguments());
        if (out.stream().noneMatch(f -> f.startsWith("-XX:+Use") && f.endsWith("GC"))) out.add(gcFlag());
        return List.copyOf(out);
    }

    /** The flags among a JVM's arguments (before its main class), as {@link #current()} lists them. */
    public static List<String> ofArguments(List<String> arguments) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < arguments.size(); i++) {
            String a = arguments.get(i);
            if (a.equals("-cp") || a.equals("-classpath") || a.equals("--class-path")) {
                i++; // its value is a path, not a flag
            } else if (a.equals("--add-modules") && i + 1 < arguments.size()) {
                out.add("--add-modules=" + arguments.get(++i));
            } else if (a.startsWith("-X") || a.startsWith("--add-modules") || a.startsWith("--enable-preview")) {
                out.add(a);
            } else if (!a.startsWith("-")) {
                break; // the main class: what follows are the program's arguments
            }
        }
        return out;
    }

    /** The flag that selects the collector this JVM runs, read from its collectors' names. */
    private static String gcFlag() {
        String names = String.join(
                ",",
                ManagementFactory.getGarbageCollectorMXBeans().stream()
                        .map(GarbageCollectorMXBean::getName)
                        .toList());
        if (names.contains("G1")) return "-XX:+UseG1GC";
        if (names.contains("ZGC")) return "-XX:+UseZGC";
        if (names.contains("Shenandoah")) return "-XX:+UseShenandoahGC";
        if (names.contains("PS ")) return "-XX:+UseParallelGC";
        if (names.contains("Copy") || names.contains("MarkSweepCompact")) return "-XX:+UseSerialGC";
        return "-XX:+Use?GC (" + names + ")";
    }
}
