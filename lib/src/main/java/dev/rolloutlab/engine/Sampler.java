package dev.rolloutlab.engine;

import dev.rolloutlab.engine.kernels.Cores;
import dev.rolloutlab.engine.kernels.Ops;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Picks the next token from one row of logits: greedy, or temperature with top-k and top-p; reports its logprob.
 * Thread-safe: the scheduler samples the sequences of a step in parallel.
 */
final class Sampler {
    private final int vocab;
    private final ThreadLocal<float[]> scratch;

    Sampler(int vocab) {
        this.vocab = vocab;
        this.scratch = ThreadLocal.withInitial(() -> new float[vocab]);
    }

    /** The chosen token and its logprob under the unscaled distribution. */
    record Pick(int token, float logprob) {}

    /** The next token of each of {@code seqs}, whose logits are rows {@code rows} of {@code logits}. */
    Pick[] pickAll(float[] logits, List<Seq> seqs, int[] rows, boolean uniform) {
        Pick[] picks = new Pick[seqs.size()];
        if (uniform) {
            int allowed = 0;
            for (int i = 0; i < vocab; i++) if (logits[i] != Float.NEGATIVE_INFINITY) allowed++;
            for (int i = 0; i < picks.length; i++)
                picks[i] = pickUniform(
                        logits, rows[i] * vocab, seqs.get(i).job.request.params(), seqs.get(i).rng, allowed);
            return picks;
        }
        // sampling is a pass over the vocabulary per sequence: run it on all cores
        Cores.parallelFor(picks.length, (long) picks.length * vocab * 8, i -> {
            Seq s = seqs.get(i);
            picks[i] = pick(logits, rows[i] * vocab, s.job.request.params(), s.rng);
        });
        return picks;
    }

    /**
     * Logits equal wherever finite stay uniform over the {@code allowed} finite tokens at any temperature, so one draw
     * replaces the passes over the vocabulary that took most of a simulated host's CPU (half its samples at 4 ports).
     * Greedy and filtered sampling take the general path.
     */
    private Pick pickUniform(float[] logits, int off, SamplingParams p, SplittableRandom rng, int allowed) {
        if (p.temperature() == 0 || p.topK() > 0 && p.topK() < vocab || p.topP() < 1) return pick(logits, off, p, rng);
        int tok;
        do tok = rng.nextInt(vocab);
        while (logits[off + tok] == Float.NEGATIVE_INFINITY);
        return new Pick(tok, (float) -Math.log(allowed));
    }

    Pick pick(float[] logits, int off, SamplingParams p, SplittableRandom rng) {
        // one pass for the maximum serves the draw and the logprob's normaliser alike
        float max = Ops.max(logits, off, vocab);
        boolean plain = p.temperature() == 1.0 && !(p.topK() > 0 && p.topK() < vocab) && p.topP() >= 1;
        if (!plain) {
            int tok = sample(logits, off, max, p, rng);
            return new Pick(tok, logits[off + tok] - logZ(logits, off, max));
        }
        // temperature 1 without filters: the sampling weights are the softmax itself, so one pass of exp serves both
        float[] probs = scratch.get();
        double sum = weigh(logits, off, max, 1f, probs);
        int tok = draw(probs, vocab, sum, rng);
        return new Pick(tok, (float) (logits[off + tok] - (max + Math.log(sum))));
    }

    /** Log of the softmax normaliser of the unscaled logits, so logprob(t) = logits[t] - logZ. */
    float logZ(float[] logits, int off) {
        return logZ(logits, off, Ops.max(logits, off, vocab));
    }

    private float logZ(float[] logits, int off, float max) {
        return (float) (max + Math.log(weigh(logits, off, max, 1f, scratch.get())));
    }

    /** Writes each token's weight {@code exp((logit - max) * scale)} to {@code out} and returns their sum. */
    private double weigh(float[] logits, int off, float max, float scale, float[] out) {
        Ops.exps(logits, off, vocab, max, scale, out);
        return Ops.sum(out, vocab);
    }

    int sample(float[] logits, int off, SamplingParams p, SplittableRandom rng) {
        return sample(logits, off, Ops.max(logits, off, vocab), p, rng);
    }

    private int sample(float[] logits, int off, float max, SamplingParams p, SplittableRandom rng) {
        if (p.temperature() == 0) return firstAt(logits, off, max);
        float[] probs = scratch.get();
        double sum = weigh(logits, off, max, (float) (1.0 / p.temperature()), probs);
        // NaN or infinite weights (a NaN logit) would leave nothing to draw from: greedy is the only defined answer
        if (!(sum > 0 && sum < Double.POSITIVE_INFINITY)) return argmax(logits, off);
        boolean filter = p.topK() > 0 && p.topK() < vocab || p.topP() < 1;
        if (!filter) return draw(probs, vocab, sum, rng);
        int[] cand = candidates(probs, p, sum);
        double total = 0;
        for (int c : cand) total += probs[c];
        double u = rng.nextDouble() * total;
        for (int c : cand) {
            u -= probs[c];
            if (u <= 0) return c;
        }
        return cand[cand.length - 1];
    }

    /** Ids sorted by probability, cut to top-k and then to the smallest prefix whose mass reaches top-p. */
    private int[] candidates(float[] probs, SamplingParams p, double sum) {
        // Only tokens above a threshold can be in the nucleus once the kept mass reaches top_p; lower the threshold
        // until it does, so the sort touches a few hundred ids instead of the whole vocabulary.
        float pmax = 0;
        for (int i = 0; i < vocab; i++) pmax = Math.max(pmax, probs[i]);
        int k = p.topK() > 0 ? Math.min(p.topK(), vocab) : vocab;
        float threshold = pmax * 1e-3f;
        int n;
        while (true) {
            n = 0;
            double mass = 0;
            for (int i = 0; i < vocab; i++) {
                if (probs[i] >= threshold) {
                    n++;
                    mass += probs[i];
                }
            }
            // the answer is a prefix of the sorted candidates once they hold top-k ids or top-p of the mass
            // the threshold reaches 0 within a few rounds; a NaN one (a NaN weight) ends the search at once too
            if (n >= k || mass >= p.topP() * sum || !(threshold > 0)) break;
            threshold = threshold < 1e-30f ? 0 : threshold * 1e-3f;
        }
        if (n == 0) return new int[] {argmax(probs, 0)};
        int[] ids = new int[n];
        int j = 0;
        for (int i = 0; i < vocab; i++) if (probs[i] >= threshold) ids[j++] = i;
        long[] keyed = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            // sort by descending probability, then ascending id, packed into one long
            keyed[i] = ((long) (Integer.MAX_VALUE - Float.floatToIntBits(probs[ids[i]])) << 32) | ids[i];
        }
        Arrays.sort(keyed);
        int keep = Math.min(k, keyed.length);
        double cum = 0, target = p.topP() * sum;
        int cut = keep;
        for (int i = 0; i < keep; i++) {
            cum += probs[(int) keyed[i]];
            if (cum >= target) {
                cut = i + 1;
                break;
            }
        }
        int[] out = new int[cut];
        for (int i = 0; i < cut; i++) out[i] = (int) keyed[i];
        return out;
    }

    private static int draw(float[] probs, int n, double sum, SplittableRandom rng) {
        double u = rng.nextDouble() * sum;
        for (int i = 0; i < n; i++) {
            u -= probs[i];
            if (u <= 0) return i;
        }
        return n - 1;
    }

    /**
     * The first token whose logit is {@code max}, the maximum already taken: what {@link #argmax} finds, without a
     * second comparison chain over the vocabulary (it stops at the token and compares no two logits).
     */
    private int firstAt(float[] logits, int off, float max) {
        if (Float.isNaN(max)) return argmax(logits, off); // NaN logits are skipped there, and no logit equals NaN
        for (int i = 0; i < vocab; i++) if (logits[off + i] == max) return i;
        return argmax(logits, off);
    }

    int argmax(float[] logits, int off) {
        int best = 0;
        float bv = logits[off];
        for (int i = 1; i < vocab; i++) {
            if (logits[off + i] > bv) {
                bv = logits[off + i];
                best = i;
            }
        }
        return best;
    }

    List<TopLogprob> top(float[] logits, int off, float logZ, int k) {
        int[] best = new int[k];
        Arrays.fill(best, -1);
        for (int i = 0; i < vocab; i++) {
            float v = logits[off + i];
            int j = k - 1;
            if (best[j] >= 0 && logits[off + best[j]] >= v) continue;
            while (j > 0 && (best[j - 1] < 0 || logits[off + best[j - 1]] < v)) {
                best[j] = best[j - 1];
                j--;
            }
            best[j] = i;
        }
        List<TopLogprob> out = new ArrayList<>(k);
        for (int id : best) if (id >= 0) out.add(new TopLogprob(id, logits[off + id] - logZ));
        return out;
    }
}
