package dev.rolloutlab.compare;

/**
 * When a run gets its zero-compute control: its grid again on clock engines whose steps take no time, in the run's own
 * serve and lb JVMs ({@link Compare#withControl}), so the report can set HTTP's cost alone beside the real engine's
 * tax.
 */
public final class ZeroComputeControl {
    private ZeroComputeControl() {}

    /** Whether a run of {@code c} gets a control by default: on compare's own servers, and not with {@code --quick}. */
    public static boolean byDefault(CompareConfig c) {
        return ownServers(c) && !c.quick();
    }

    /** The control runs only where compare starts the servers itself: serve must start its zero-compute twins. */
    public static boolean ownServers(CompareConfig c) {
        return c.fleet() == null && c.externalTargets().isEmpty();
    }
}
