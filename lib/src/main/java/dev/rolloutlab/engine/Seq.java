package dev.rolloutlab.engine;

import dev.rolloutlab.engine.model.KvCache;
import dev.rolloutlab.engine.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** One sample being generated: its KV cache, its own seeded RNG, and the tokens, logprobs and versions so far. */
final class Seq {
    final Job job;
    final int index;
    final KvCache cache;
    final SplittableRandom rng;
    final Tokenizer.Decoder decoder;
    final StringBuilder text = new StringBuilder();
    int[] tokens = new int[16];
    float[] logprobs = new float[16];
    long[] versions = new long[16];
    List<List<TopLogprob>> tops;
    int count;
    int pos;
    /** The weights version all of this sample's keys and values were computed under; -1 once they mix versions. */
    long kvVersion;

    FinishReason finish;

    Seq(Job job, int index, KvCache cache, int pos, long seed, Tokenizer.Decoder decoder, long kvVersion) {
        this.job = job;
        this.kvVersion = kvVersion;
        this.index = index;
        this.cache = cache;
        this.pos = pos;
        this.rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
        this.decoder = decoder;
        this.tops = job.request.params().topLogprobs() > 0 ? new ArrayList<>() : List.of();
    }

    int last() {
        return tokens[count - 1];
    }
}
