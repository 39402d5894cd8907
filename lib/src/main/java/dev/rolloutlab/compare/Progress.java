package dev.rolloutlab.compare;

import dev.rolloutlab.results.Summary;
import java.io.Console;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * Progress on stderr: each measured cell as a line, with cells done of those planned, time elapsed and time left - the
 * mean cell so far times the cells left, plus the freshness experiment (its strategies' mean once one has run, a guess
 * before). On a terminal a bar under the lines is redrawn in place; elsewhere (logs, CI) plain lines only.
 */
final class Progress {
    /**
     * Seconds one freshness strategy takes before any has been timed: about what the default grid's take on 2 cores.
     */
    private static final double STRATEGY_GUESS_S = 12;

    private final PrintStream log;
    private final boolean terminal;
    private final int strategies;
    private final long t0 = System.nanoTime();
    private int planned, done, strategiesDone;
    private double cellsS, strategiesS;
    private long last = t0;

    Progress(PrintStream log, int plannedCells, int strategies) {
        this.log = log;
        this.planned = Math.max(1, plannedCells);
        this.strategies = strategies;
        this.terminal = log == System.err && isTerminal();
    }

    /** Console.isTerminal() appeared in Java 22 (before it, a console meant a terminal); we compile for 21. */
    private static boolean isTerminal() {
        Console c = System.console();
        if (c == null) return false;
        try {
            return (boolean) Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    /** Cells in one round: every leg on every prompt × output, plus each sweep point on the legs that sweep. */
    static int perRound(CompareConfig c, List<Topologies.Leg> legs) {
        int cells = c.promptLens().size() * c.outputLens().size();
        int sweeping = (int) legs.stream().filter(Topologies.Leg::sweeps).count();
        return legs.size() * cells + sweeping * c.sweepConcurrency().size();
    }

    /** Warm-up is over: the first cell's time starts now, so the estimate is not inflated by the warm-up. */
    void measuring() {
        last = System.nanoTime();
    }

    /** Another round was added ({@code --until-ci}). */
    void addPlanned(int cells) {
        planned += cells;
    }

    /** A cell was measured; {@code line} says what it gave. */
    void step(String line) {
        cellsS += lap();
        done++;
        show("  " + line + "  " + status());
    }

    /** A measured cell: its leg, how many answered and failed, its mean e2el and throughput. */
    void cell(String who, int round, Topologies.Leg leg, Summary s) {
        step(String.format(
                Locale.ROOT,
                "%sround %d %-7s %-10s %-16s %3d ok %2d failed  e2el %8.2f ms  %7.1f tok/s",
                who,
                round,
                leg.topology(),
                leg.connection(),
                s.workload(),
                s.completed(),
                s.failed(),
                s.e2el().mean().estimate(),
                s.throughput().outputTokens().estimate()));
    }

    /** A point of the throughput sweep. */
    void sweepPoint(int round, Topologies.Leg leg, int concurrency, Summary s) {
        step(String.format(
                Locale.ROOT,
                "round %d %-7s sweep      concurrency %-3d %7.1f tok/s  e2el %8.2f ms",
                round,
                leg.topology(),
                concurrency,
                s.throughput().outputTokens().estimate(),
                s.e2el().mean().estimate()));
    }

    void strategyDone() {
        strategiesS += lap();
        strategiesDone++;
        show("  freshness strategy " + strategiesDone + "/" + strategies + " done  " + status());
    }

    private double lap() {
        long now = System.nanoTime();
        double s = (now - last) / 1e9;
        last = now;
        return s;
    }

    /** {@code [done/planned cells] N s elapsed, about M s left}. */
    String status() {
        double elapsed = (System.nanoTime() - t0) / 1e9;
        double perCell = done == 0 ? 0 : cellsS / done,
                perStrategy = strategiesDone == 0 ? STRATEGY_GUESS_S : strategiesS / strategiesDone;
        double left = perCell * Math.max(0, planned - done) + perStrategy * Math.max(0, strategies - strategiesDone);
        return String.format(
                Locale.ROOT, "[%d/%d cells] %.0f s elapsed, about %.0f s left", done, planned, elapsed, left);
    }

    private void show(String line) {
        if (!terminal) {
            log.println(line);
            return;
        }
        int width = 30, filled = (int) Math.round(width * Math.min(1.0, (double) done / planned));
        log.print("\r\033[K" + line + "\n[" + "#".repeat(filled) + ".".repeat(width - filled) + "] " + status());
        log.flush();
    }
}
