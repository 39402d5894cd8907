package dev.rolloutlab.compare;

import dev.rolloutlab.results.RunFolder;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The zero-compute control of a finished run: its grid again on clock engines whose steps take no time, written to the
 * run's {@code control/} folder, so the report can set HTTP's cost alone beside the real engine's tax.
 */
public final class ZeroComputeControl {
    private ZeroComputeControl() {}

    /** Whether a run of {@code c} gets a control by default: on compare's own servers, and not with {@code --quick}. */
    public static boolean byDefault(CompareConfig c) {
        return ownServers(c) && !c.quick();
    }

    /** The control runs only where compare starts the servers itself: it must start them on clock engines. */
    public static boolean ownServers(CompareConfig c) {
        return c.fleet() == null && c.externalTargets().isEmpty();
    }

    /**
     * Runs {@code control} (built with {@link CompareConfig.Builder#control}) into {@code runDir}/control;
     * {@code started} gets the run before it starts, so it can be stopped.
     */
    public static Compare.Outcome run(CompareConfig control, Path runDir, PrintStream log, Consumer<Compare> started) {
        RunFolder folder = RunFolder.create(runDir.resolve("control"), "control");
        Compare run = new Compare(control, folder, log);
        log.println("compare: the zero-compute control (the same grid on clock engines) -> " + folder.dir());
        started.accept(run);
        Compare.Outcome o = run.run();
        folder.writeRun(run.describe(), o.incomplete(), o.reason());
        if (o.incomplete()) log.println("compare: the control stopped early, the grid is complete: " + o.reason());
        return o;
    }
}
