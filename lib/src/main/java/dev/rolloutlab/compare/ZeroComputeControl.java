package dev.rolloutlab.compare;

import dev.rolloutlab.engine.model.Checkpoint;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The zero-compute control of a compare run: its grid again on clock engines whose steps take no time, in the run's own
 * serve and lb JVMs (serve's twin ports, the balancer switched to them for each slot) and its client JVM, so the report
 * can set HTTP's cost alone beside the real engine's tax. It warms before the real legs do, is measured in slots
 * between the real run's cells and writes its own run into {@code control/}.
 */
public final class ZeroComputeControl {
    private final Compare twin;
    private final Topologies real;
    /** Slots per real round: one after each real cell. */
    private final int slots;

    /** Whether a run of {@code c} gets a control by default: on compare's own servers, and not with {@code --quick}. */
    public static boolean byDefault(CompareConfig c) {
        return ownServers(c) && !c.quick();
    }

    /** The control runs only where compare starts the servers itself: serve must start its zero-compute twins. */
    public static boolean ownServers(CompareConfig c) {
        return c.fleet() == null && c.externalTargets().isEmpty();
    }

    ZeroComputeControl(Compare twin, Topologies real, int slots) {
        this.twin = twin;
        this.real = real;
        this.slots = slots;
    }

    /**
     * Starts the control's legs in the processes of {@code realRun} and warms them until steady, the balancer on the
     * twins meanwhile. False, having said why on {@code log}, when the control cannot start: the real run goes on
     * without it.
     */
    boolean start(Compare realRun, Path model, Checkpoint cp, PrintStream log) {
        try {
            twin.startAsControl(realRun, model, cp);
            real.routeLbToTwins(true);
            try {
                twin.warmUpLegs();
            } finally {
                real.routeLbToTwins(false);
            }
            return true;
        } catch (RuntimeException e) {
            twin.closeTopologies();
            log.println("compare: the control could not start: " + e.getMessage());
            return false;
        }
    }

    /** Whether the control's warm-up brought {@code process} to its steady state. */
    boolean warmed(String process) {
        return twin.warmed(process);
    }

    /**
     * Slot {@code slot} of real round {@code r}: a slice of every control cell on each control leg. Every control cell
     * is thus measured in as many short slices as a round has cells, spread over the run; the machine's slow spells,
     * which last seconds, reach every control cell alike instead of deciding a whole cell's round. Slot {@code s} of
     * round {@code r} is the control's round {@code (r - 1) * slots + s + 1}, so its pairs stay within one slice.
     */
    void slot(int r, int slot) {
        int round = (r - 1) * slots + slot + 1;
        // the cells' order turns too: the first cell after a real one read up to 0.5 ms more tax in one run's first
        // half, and a fixed order gave that to the same cell every time
        List<GridCell> cells = new ArrayList<>(twin.cells());
        Collections.rotate(cells, -(round - 1));
        real.routeLbToTwins(true);
        try {
            for (GridCell cell : cells) if (!twin.slice(round, cell, slots)) return;
        } finally {
            real.routeLbToTwins(false);
        }
        twin.roundRun(round);
    }

    /** The control's cells measured per real round: every control leg on every cell, in each slot. */
    int cellsPerRound() {
        return twin.cellsPerRound() * slots;
    }

    void share(Progress progress) {
        twin.share(progress);
    }

    void stop(String reason) {
        twin.stop(reason);
    }

    /** Writes the control's run into {@code control/}, stopped early when the real run was. */
    void finish(double calibrationAfterMs, String realStopReason) {
        twin.finishAsControl(calibrationAfterMs, realStopReason);
    }
}
