package dev.rolloutlab.engine;

import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.model.KvCache;
import dev.rolloutlab.engine.model.Transformer;
import dev.rolloutlab.engine.model.Weights;

/**
 * Teacher-forced logprobs of given completion tokens under given weights: what a trainer computes for its loss. Set
 * beside the logprobs the rollout reported, it prices staleness in RL's own units (logprob gap, KL). Not thread-safe;
 * it has its own forward-pass buffers, so it never touches a running engine's.
 */
public final class Scorer {
    private final ModelConfig config;
    private final Transformer model;
    private final Sampler sampler;

    public Scorer(ModelConfig config) {
        this.config = config;
        this.model = new Transformer(config);
        this.sampler = new Sampler(config.vocabSize());
    }

    /** log p(completion[i] | prompt, completion[0..i)) under {@code w}, unscaled (temperature 1), for every i. */
    public float[] logprobs(Weights w, int[] prompt, int[] completion) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt is empty");
        if (completion.length == 0) return new float[0];
        int n = prompt.length + completion.length - 1; // the last completion token is predicted, never fed
        if (n + 1 > config.maxPositions())
            throw new IllegalArgumentException(n + 1 + " tokens exceed the context of " + config.maxPositions());
        int[] tokens = new int[n], positions = new int[n], logitRows = new int[completion.length];
        KvCache cache = new KvCache(config.numLayers(), config.kvDim(), n);
        KvCache[] caches = new KvCache[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = i < prompt.length ? prompt[i] : completion[i - prompt.length];
            positions[i] = i;
            caches[i] = cache;
        }
        for (int i = 0; i < completion.length; i++) logitRows[i] = prompt.length - 1 + i;
        int vocab = config.vocabSize();
        float[] logits = new float[completion.length * vocab];
        model.forward(w, n, 0, tokens, positions, caches, logitRows, completion.length, logits);
        float[] out = new float[completion.length];
        for (int i = 0; i < completion.length; i++)
            out[i] = logits[i * vocab + completion[i]] - sampler.logZ(logits, i * vocab);
        return out;
    }
}
