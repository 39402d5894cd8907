package dev.rolloutlab.server;

import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.FinishReason;
import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.engine.Timings;
import dev.rolloutlab.engine.TokenListener;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.Wire;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.TraceParent;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One streamed completion: the engine's tokens, handed from its thread to this request's, written as server-sent events
 * the moment they come (a chunk per token, a finish chunk per sample), then a last chunk with usage and the server's
 * timings, then {@code [DONE]}. On a simulated host each chunk takes the link's one-way delay.
 */
final class CompletionStream {
    private static final long KEEPALIVE_POLL_MS = 1000;
    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);

    /** One token or finish from the engine thread to the HTTP thread, and when it was produced. */
    private record Event(
            int sample, int tokenId, float logprob, long version, String text, FinishReason finish, long atNs) {}

    private final Completions port;
    private final Context ctx;
    private final CompletionRequest req;
    private final GenerationRequest gen;
    private final String id, model;
    private final long created, t0;
    private final TraceParent trace;
    private final boolean chat;
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    /** Nanoseconds spent serialising chunks: the server's own cost, apart from the socket. */
    private long serializeNs;

    CompletionStream(
            Completions port,
            Context ctx,
            CompletionRequest req,
            GenerationRequest gen,
            String id,
            long created,
            long t0,
            TraceParent trace) {
        this.port = port;
        this.ctx = ctx;
        this.req = req;
        this.gen = gen;
        this.id = id;
        this.model = port.options.servedModelName();
        this.created = created;
        this.t0 = t0;
        this.trace = trace;
        this.chat = req.endpoint() == CompletionRequest.Endpoint.CHAT;
    }

    /** Submits the request (abortable as {@code rid}) and streams its answer until the last sample finishes. */
    void send(String rid) throws Exception {
        ServeMetrics m = port.metrics();
        TokenClock clock = m.clock(
                new TokenListener() {
                    @Override
                    public void onToken(int sample, int tokenId, float logprob, long version, String text) {
                        events.add(new Event(sample, tokenId, logprob, version, text, null, System.nanoTime()));
                    }

                    @Override
                    public void onFinish(int sample, FinishReason reason) {
                        events.add(new Event(sample, -1, 0, -1, "", reason, System.nanoTime()));
                    }
                },
                gen.n());
        long submitNs = System.nanoTime();
        CompletableFuture<Completion> done = port.aborts.track(rid, () -> port.submit(gen, clock));
        // headers go out with the first token, so X-Weights-Version is the version that token was sampled under
        Event first = null;
        long waitingSince = System.nanoTime();
        while (first == null) {
            first = events.poll(KEEPALIVE_POLL_MS, TimeUnit.MILLISECONDS);
            if (first == null && done.isCompletedExceptionally()) {
                done.join();
            }
        }
        var res = ctx.res();
        res.setStatus(200);
        res.setContentType("text/event-stream; charset=utf-8");
        res.setHeader("Cache-Control", "no-cache");
        res.setHeader("X-Weights-Version", String.valueOf(first.version()));
        OutputStream out = res.getOutputStream();
        LinkDelay link = port.options.link() != null && port.options.link().active() ? port.options.link() : null;
        // the link's delay of the last chunk written: the network's, left out of serve's own total
        long linkNs = 0;
        // A chunk enters the link when a real server would have written it: when this thread took it, if it was
        // waiting, else (still holding earlier chunks) its production plus the last such wake-up. Counting from
        // production instead let the wake-up (~0.1 ms here) hide inside a short link's delay.
        long wakeNs = Math.max(0, System.nanoTime() - Math.max(first.atNs(), waitingSince));
        if (link != null) {
            ctx.attribute(OpenAiServer.STREAMED, true);
            linkNs = link.holdFrom(first.atNs() + wakeNs);
        }
        int[] counts = new int[gen.n()];
        if (chat) {
            for (int i = 0; i < gen.n(); i++)
                write(out, chatChunk(new Wire.ChunkChoice(i, new Wire.Delta("assistant", ""), null, null, null, null)));
        }
        int finished = 0;
        Event e = first;
        try {
            while (true) {
                if (link != null) linkNs = link.holdFrom(e.atNs() + wakeNs);
                if (e.finish() != null) {
                    finished++;
                    write(out, finishChunk(e));
                    if (finished == gen.n()) break;
                } else {
                    counts[e.sample()]++;
                    write(out, tokenChunk(e));
                }
                waitingSince = System.nanoTime();
                e = events.take();
                if (e.atNs() >= waitingSince) wakeNs = System.nanoTime() - e.atNs();
            }
            Completion c;
            try {
                c = done.get(5, TimeUnit.SECONDS); // completes right after the last sample's finish event
            } catch (ExecutionException | TimeoutException notYet) {
                c = null;
            }
            long answeredNs = System.nanoTime(); // before the last write: the client cannot see the end sooner
            write(out, lastChunk(c, counts, linkNs));
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            if (c != null) {
                m.finished(c, clock, t0);
                if (trace != null) port.spans(trace, c, t0, submitNs, -1, answeredNs);
            }
        } catch (IOException clientGone) {
            done.cancel(false); // the engine drops a cancelled request at its next step
            m.clientGone();
        }
    }

    /** A sample's next token, with its logprob, id and weights version when asked for. */
    private Object tokenChunk(Event e) {
        int[] ids = req.returnTokenIds() ? new int[] {e.tokenId()} : null;
        long[] versions = req.returnTokenIds() ? new long[] {e.version()} : null;
        if (chat) {
            Wire.ChatLogprobs lp = req.logprobs()
                    ? new Wire.ChatLogprobs(List.of(port.logprobs.token(e.tokenId(), e.logprob(), List.of())))
                    : null;
            return chatChunk(new Wire.ChunkChoice(e.sample(), new Wire.Delta(null, e.text()), lp, null, ids, versions));
        }
        Wire.TextLogprobs lp = req.logprobs()
                ? new Wire.TextLogprobs(
                        List.of(port.logprobs.tokenText(e.tokenId())), List.of((double) e.logprob()), null, null)
                : null;
        return textChunk(new Wire.TextChoice(e.sample(), e.text(), lp, null, ids, versions));
    }

    /** A sample's finish, with its reason. */
    private Object finishChunk(Event e) {
        return chat
                ? chatChunk(new Wire.ChunkChoice(
                        e.sample(), new Wire.Delta(null, null), null, e.finish().openai, null, null))
                : textChunk(new Wire.TextChoice(e.sample(), "", null, e.finish().openai, null, null));
    }

    /**
     * The last chunk: usage when asked for, and always the server's timings (an extension field clients ignore), its
     * total without the link's delay of the last chunk, which is the network's.
     */
    private Map<String, Object> lastChunk(Completion c, int[] counts, long linkNs) {
        Map<String, Object> last = new LinkedHashMap<>();
        last.put("id", id);
        last.put("object", chat ? "chat.completion.chunk" : "text_completion");
        last.put("created", created);
        last.put("model", model);
        last.put("choices", List.of());
        if (req.includeUsage()) {
            int total = 0;
            for (int n : counts) total += n;
            last.put(
                    "usage",
                    Wire.Usage.of(
                            gen.promptTokens().length,
                            total,
                            c == null ? -1 : c.timings().cachedTokens()));
        }
        last.put(
                "server_timing",
                ServerTiming.json(
                        c != null ? c.timings() : Timings.UNKNOWN, serializeNs, System.nanoTime() - t0 - linkNs));
        return last;
    }

    private Wire.ChatChunk chatChunk(Wire.ChunkChoice choice) {
        return new Wire.ChatChunk(id, "chat.completion.chunk", created, model, List.of(choice), null);
    }

    private Wire.TextCompletion textChunk(Wire.TextChoice choice) {
        return new Wire.TextCompletion(id, "text_completion", created, model, List.of(choice), null);
    }

    /** Writes one event, adding the time spent serialising it to {@link #serializeNs}. */
    private void write(OutputStream out, Object chunk) throws IOException {
        long s0 = System.nanoTime();
        byte[] json = Json.bytes(chunk);
        serializeNs += System.nanoTime() - s0;
        out.write(DATA);
        out.write(json);
        out.write(END);
        out.flush();
    }
}
