package dev.rolloutlab.compare;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress of the measured legs on stderr: cells done of those planned, time elapsed and a rough time left (the mean
 * cell so far times the cells left; later cells with longer prompts take longer, so it errs low early on).
 */
final class Progress {
    private final PrintStream log;
    private final int planned;
    private final long t0 = System.nanoTime();
    private int done;

    Progress(PrintStream log, int planned) {
        this.log = log;
        this.planned = Math.max(1, planned);
    }

    /** The cells compare will measure: every topology × connection × prompt × output, plus each sweep point. */
    static int planned(CompareConfig c) {
        int cells = c.promptLens().size() * c.outputLens().size(), n = 0;
        for (String t : c.topologies()) {
            n += (t.equals("inproc") ? 1 : c.connections().size()) * cells;
            if (t.equals("inproc") || c.connections().contains("keep-alive")) n += c.sweepConcurrency().size();
        }
        return n;
    }

    void step() {
        done++;
        double elapsed = (System.nanoTime() - t0) / 1e9, left = elapsed / done * Math.max(0, planned - done);
        log.printf(Locale.ROOT, "  [%d/%d cells] %.0f s elapsed, about %.0f s left%s%n", done, planned, elapsed, left,
                done >= planned ? " (then the freshness experiment)" : "");
    }
}
