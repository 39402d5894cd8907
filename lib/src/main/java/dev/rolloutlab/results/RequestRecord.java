package dev.rolloutlab.results;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.ServerTimings;

/**
 * One request as {@code requests.jsonl} stores it. Times are nanoseconds since the run started; latency is taken from
 * {@code scheduledNs} (when the request should have been sent), so a slow client cannot hide queueing.
 */
public record RequestRecord(
        Topology topology,
        Connection connection,
        int round,
        String backend,
        long requestId,
        int n,
        int promptTokens,
        int completionTokens,
        long weightsVersion,
        long scheduledNs,
        long sentNs,
        long firstTokenNs,
        long endNs,
        long connectNs,
        int status,
        String error,
        float[] itlMs,
        CompletionRequest.Endpoint endpoint,
        boolean streamed,
        String tokensFrom,
        ServerTimings serverTiming) {
    /**
     * Where {@code completionTokens} came from: the server's usage, our count with the model's tokenizer, or nowhere
     * (-1).
     */
    public static final String USAGE = "usage", TOKENIZER = "tokenizer", UNKNOWN = "unknown";

    /** This record in round {@code r} of a repeated run (the load generator itself knows no rounds: 0). */
    public RequestRecord withRound(int r) {
        return new RequestRecord(
                topology,
                connection,
                r,
                backend,
                requestId,
                n,
                promptTokens,
                completionTokens,
                weightsVersion,
                scheduledNs,
                sentNs,
                firstTokenNs,
                endNs,
                connectNs,
                status,
                error,
                itlMs,
                endpoint,
                streamed,
                tokensFrom,
                serverTiming);
    }

    public boolean ok() {
        return status == 200 && error == null;
    }

    public double e2elMs() {
        return (endNs - scheduledNs) / 1e6;
    }

    /**
     * What the path around the engine cost this request: e2el minus the engine's own queue, prefill and decode, which
     * both modes measure with the same engine code. The engine's compute noise cancels out of it, so it is the HTTP tax
     * on an HTTP leg and the in-process path's own cost on an in-process one; NaN when the engine said nothing.
     */
    public double taxMs() {
        return e2elMs() - (serverTiming == null ? Double.NaN : serverTiming.engineMs());
    }

    public double e2elFromDispatchMs() {
        return (endNs - sentNs) / 1e6;
    }

    public double ttftMs() {
        return firstTokenNs < 0 ? Double.NaN : (firstTokenNs - scheduledNs) / 1e6;
    }

    /** Time per output token after the first, per sample; NaN with one token or an unknown count. */
    public double tpotMs() {
        int perSample = n > 0 ? completionTokens / n : completionTokens;
        if (perSample <= 1 || firstTokenNs < 0) return Double.NaN;
        return (endNs - firstTokenNs) / 1e6 / (perSample - 1);
    }
}
