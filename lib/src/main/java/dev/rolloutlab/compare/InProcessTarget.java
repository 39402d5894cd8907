package dev.rolloutlab.compare;

import dev.rolloutlab.bench.Target;
import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.SamplingParams;
import dev.rolloutlab.engine.Timings;
import dev.rolloutlab.engine.tokenizer.ChatTemplate;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.openai.ServerTimings;
import java.util.Arrays;

/**
 * The in-process topology as a load-generator target: the same request, handed to the engine in this JVM with no HTTP
 * or JSON. Times are taken exactly where the HTTP client takes them, so the two are comparable.
 */
final class InProcessTarget implements Target {
    private final InProcessEngine engine;
    private final ChatTemplate template;

    public InProcessTarget(InProcessEngine engine) {
        this.engine = engine;
        this.template = new ChatTemplate(engine.tokenizer());
    }

    @Override
    public String name() {
        return engine.name();
    }

    @Override
    public OpenAiClient.Result send(CompletionRequest r) {
        long sent = System.nanoTime();
        try {
            int[] prompt = r.endpoint() == CompletionRequest.Endpoint.CHAT
                    ? engine.tokenizer().encode(template.render(r.messages()))
                    : r.promptTokenIds() != null
                            ? r.promptTokenIds()
                            : engine.tokenizer().encode(r.prompt());
            SamplingParams p = new SamplingParams(
                    r.maxTokens(),
                    r.temperature(),
                    r.topP(),
                    r.topK(),
                    r.seed(),
                    r.stopTokenIds(),
                    r.stop(),
                    r.logprobs() ? r.topLogprobs() : 0,
                    r.ignoreEos());
            long[] chunks = new long[r.maxTokens() * r.n() + 1];
            int[] count = {0};
            long[] first = {-1};
            Completion c = engine.submit(new GenerationRequest(prompt, r.n(), p), (sample, id, lp, version, text) -> {
                        long now = System.nanoTime();
                        if (first[0] < 0) first[0] = now;
                        if (count[0] < chunks.length) chunks[count[0]++] = now;
                    })
                    .join();
            long end = System.nanoTime();
            StringBuilder text = new StringBuilder();
            c.samples().forEach(s -> text.append(s.text()));
            return new OpenAiClient.Result(
                    200,
                    engine.name(),
                    c.minVersion(),
                    sent,
                    r.stream() ? first[0] : end,
                    end,
                    c.promptTokens(),
                    c.completionTokens(),
                    r.stream() ? Arrays.copyOf(chunks, count[0]) : new long[0],
                    text.toString(),
                    c.samples().get(0).tokenIds(),
                    null,
                    0,
                    engineTimings(c.timings()));
        } catch (RuntimeException e) {
            return OpenAiClient.Result.failed(sent, e.toString());
        }
    }

    /** The engine's own share, in the same shape serve reports over HTTP, so the breakdown compares like with like. */
    private static ServerTimings engineTimings(Timings t) {
        return new ServerTimings(
                t.queueNs() / 1e6,
                t.prefillNs() / 1e6,
                t.decodeNs() / 1e6,
                0,
                Double.NaN,
                Double.NaN,
                t.cachedTokens() < 0 ? Double.NaN : t.cachedTokens());
    }
}
