package dev.rolloutlab.server;

import dev.rolloutlab.engine.FinishReason;
import dev.rolloutlab.engine.TokenListener;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.model.snapshots.Unit;

/**
 * Times one request's tokens on the engine's thread as they are produced: when the first came (for time to first token)
 * and the gap before each later one of the same sample (inter-token latency), then hands them on unchanged.
 */
final class TokenClock implements TokenListener {
    private final TokenListener inner;
    private final long[] lastNs;
    private final DistributionDataPoint gaps;
    /** Written by the engine thread; read after the request completes, which orders the two. */
    private long firstNs;

    TokenClock(TokenListener inner, int samples, DistributionDataPoint gaps) {
        this.inner = inner;
        this.lastNs = new long[samples];
        this.gaps = gaps;
    }

    /** When the request's first token was produced ({@link System#nanoTime()}), or 0 before it was. */
    long firstNs() {
        return firstNs;
    }

    @Override
    public void onToken(int sample, int tokenId, float logprob, long version, String text) {
        long now = System.nanoTime();
        if (firstNs == 0) firstNs = now;
        if (lastNs[sample] != 0) gaps.observe(Unit.nanosToSeconds(now - lastNs[sample]));
        lastNs[sample] = now;
        inner.onToken(sample, tokenId, logprob, version, text);
    }

    @Override
    public void onFinish(int sample, FinishReason reason) {
        inner.onFinish(sample, reason);
    }
}
