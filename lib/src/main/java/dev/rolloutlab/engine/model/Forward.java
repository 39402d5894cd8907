package dev.rolloutlab.engine.model;

/**
 * One scheduler step's model call: rows in, logits of some rows out. {@link Transformer} computes them;
 * {@link ClockForward} only takes the time a {@link StepClock} says, so hundreds of simulated servers fit on a laptop.
 * The first {@code decodeRows} rows are single decode tokens, the rest prompt tokens being prefilled.
 */
public interface Forward {
    void forward(
            Weights w,
            int n,
            int decodeRows,
            int[] tokens,
            int[] positions,
            KvCache[] caches,
            int[] logitRows,
            int nLogits,
            float[] logits);

    /**
     * True when every row's logits are equal wherever they are finite (a simulated forward's): a token is then drawn
     * without a pass over the vocabulary.
     */
    default boolean uniform() {
        return false;
    }
}
