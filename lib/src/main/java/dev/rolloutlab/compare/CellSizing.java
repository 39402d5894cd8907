package dev.rolloutlab.compare;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How many requests a cell gets per leg and round: enough for about {@code --cell-sec} on its slowest leg at the
 * warm-up's rate (cheap cells get many, which is what narrows their intervals), at least the grid's minimum, at most
 * {@code --max-requests}, in whole blocks of {@code --concurrency} (the unit the paired intervals average over). A
 * cell's count is settled when first asked, so every round and every leg sends the same.
 */
final class CellSizing {
    private final CompareConfig c;
    /** Requests a second of each cell's slowest leg in the warm-up. */
    private final Map<GridCell, Double> rate = new HashMap<>();

    private final Map<GridCell, Integer> settled = new LinkedHashMap<>();

    CellSizing(CompareConfig c) {
        this.c = c;
    }

    /**
     * A leg's warm-up pass sent {@code n} requests of the cell in {@code seconds}. The slowest leg sets the cell's
     * rate: every leg of a cell gets the same prompts, so the same count.
     */
    void warmed(GridCell cell, int n, double seconds) {
        rate.merge(cell, n / Math.max(seconds, 1e-6), Math::min);
    }

    /** The cell's requests per leg and round. */
    int requests(GridCell cell) {
        return settled.computeIfAbsent(cell, k -> {
            Double r = rate.get(k);
            int n = r == null || c.cellSeconds() <= 0 ? c.requestsPerLeg() : (int) Math.ceil(r * c.cellSeconds());
            n = Math.max(c.requestsPerLeg(), Math.min(c.maxRequestsPerLeg(), n));
            return blocks(n) * c.concurrency();
        });
    }

    /** One of {@code slots} slices of the cell's requests per round: whole blocks, at least one. */
    int slice(GridCell cell, int slots) {
        int blocks = (requests(cell) / c.concurrency() + slots - 1) / slots;
        return Math.max(1, blocks) * c.concurrency();
    }

    /** run.json's {@code requests_per_cell}: each settled cell's count, by its name. */
    Map<String, Integer> byName() {
        Map<String, Integer> m = new LinkedHashMap<>();
        settled.forEach((cell, n) -> m.put(cell.name(), n));
        return m;
    }

    private int blocks(int n) {
        return (n + c.concurrency() - 1) / c.concurrency();
    }
}
