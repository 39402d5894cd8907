package dev.rolloutlab.compare;

import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.Sample;
import dev.rolloutlab.engine.Scorer;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.Weights;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The trainer side of the freshness experiment: it makes each step's new weights (a seeded optimiser step that moves a
 * given fraction of the elements) and, for the samples it consumes, recomputes their logprobs under its own current
 * weights, as a policy-gradient loss does. The gap to the logprobs the rollout reported is what staleness costs in RL's
 * units.
 */
final class Trainer {
    /** Per-token logprob gap of one sample: mean |rollout - trainer| and the k3 estimate of KL(rollout || trainer). */
    record Gap(int tokens, double meanAbs, double klK3) {}

    private final Checkpoint checkpoint;
    private final double changedFraction;
    private final Scorer scorer;
    private Map<String, Tensor> tensors;
    private Weights weights;

    Trainer(Checkpoint checkpoint, double changedFraction) {
        this.checkpoint = checkpoint;
        this.changedFraction = changedFraction;
        this.scorer = new Scorer(checkpoint.config());
        this.tensors = checkpoint.weights().tensors();
        this.weights = checkpoint.weights();
    }

    Map<String, Tensor> tensors() {
        return tensors;
    }

    /**
     * One optimiser step: each element moves with probability {@code changedFraction}, by seeded noise. Sparse steps
     * are what make delta pushes pay (about 4.5 % of elements change per step in the RL fine-tuning runs that measured
     * it).
     */
    Map<String, Tensor> step(int step, long version) {
        Map<String, Tensor> next = new LinkedHashMap<>();
        SplittableRandom r = new SplittableRandom(1000 + step);
        for (Tensor t : tensors.values()) {
            float[] d = t.data().clone();
            for (int i = 0; i < d.length; i++) {
                if (changedFraction >= 1 || r.nextDouble() < changedFraction)
                    d[i] += (float) ((r.nextDouble() - 0.5) * 2e-3);
            }
            next.put(t.name(), new Tensor(t.name(), t.shape(), d));
        }
        tensors = next;
        weights = Weights.of(checkpoint.config(), next, version);
        return next;
    }

    /** The gap of one sample's tokens between the logprobs the rollout reported and the trainer's current weights. */
    Gap gap(int[] prompt, Sample s) {
        float[] mine = scorer.logprobs(weights, prompt, s.tokenIds());
        double abs = 0, k3 = 0;
        int n = 0;
        for (int i = 0; i < mine.length; i++) {
            double rollout = s.logprobs()[i];
            if (Double.isNaN(rollout)) continue;
            double logRatio = mine[i] - rollout; // log(p_trainer / p_rollout), the token drawn from the rollout policy
            abs += Math.abs(logRatio);
            k3 += Math.expm1(logRatio) - logRatio; // Schulman's k3: unbiased, never negative
            n++;
        }
        return n == 0 ? new Gap(0, Double.NaN, Double.NaN) : new Gap(n, abs / n, k3 / n);
    }

    /**
     * The first sample of an answer: one per request (a GRPO group) is scored, enough for the mean and cheap on 2
     * cores.
     */
    static Sample first(Completion c) {
        return c.samples().get(0);
    }
}
