package dev.rolloutlab.compare;

import java.util.ArrayList;
import java.util.List;

/** A cell of compare's grid: its prompt and output lengths in tokens. */
record GridCell(int in, int out) {
    /** Every cell of the run's grid, prompt lengths outermost: the order a round visits them. */
    static List<GridCell> of(CompareConfig c) {
        List<GridCell> cells = new ArrayList<>();
        for (int in : c.promptLens()) for (int out : c.outputLens()) cells.add(new GridCell(in, out));
        return cells;
    }

    /** "in=8 out=1": the cell's name in the results, its workload's name. */
    String name() {
        return "in=" + in + " out=" + out;
    }
}
