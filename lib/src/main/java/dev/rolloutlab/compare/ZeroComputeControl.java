package dev.rolloutlab.compare;

import dev.rolloutlab.engine.model.StepClock;
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
     * Runs the control of {@code c} on {@code clock} ({@code profile}: the same clock's shipped name, for serve) into
     * {@code runDir}/control; {@code started} gets the run before it starts, so it can be stopped.
     */
    public static Compare.Outcome run(
            CompareConfig c, StepClock clock, String profile, Path runDir, PrintStream log, Consumer<Compare> started) {
        RunFolder folder = RunFolder.create(runDir.resolve("control"), "control");
        Compare control = new Compare(c.control(clock, profile), folder, log);
        log.println("compare: the zero-compute control (the same grid on clock engines) -> " + folder.dir());
        started.accept(control);
        Compare.Outcome o = control.run();
        folder.writeRun(control.describe(), o.incomplete(), o.reason());
        if (o.incomplete()) log.println("compare: the control stopped early, the grid is complete: " + o.reason());
        return o;
    }
}
