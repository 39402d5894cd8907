package dev.rolloutlab.engine;

/**
 * What an engine's steps did since it started: how many ran, the sequences they decoded and the prompt tokens they
 * prefilled (each summed over steps), and the time they took. Two snapshots' difference says how a stretch of work was
 * batched: decode rows per step is the batch a decode step amortised its weights over.
 */
public record StepTotals(long steps, long decodeRows, long prefillTokens, long busyNanos) {
    public static final StepTotals NONE = new StepTotals(0, 0, 0, 0);

    public StepTotals plus(StepTotals o) {
        return new StepTotals(
                steps + o.steps, decodeRows + o.decodeRows, prefillTokens + o.prefillTokens, busyNanos + o.busyNanos);
    }

    public StepTotals minus(StepTotals o) {
        return new StepTotals(
                steps - o.steps, decodeRows - o.decodeRows, prefillTokens - o.prefillTokens, busyNanos - o.busyNanos);
    }
}
