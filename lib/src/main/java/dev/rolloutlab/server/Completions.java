package dev.rolloutlab.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.ContextLengthException;
import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.InvalidRequestException;
import dev.rolloutlab.engine.Sample;
import dev.rolloutlab.engine.SamplingParams;
import dev.rolloutlab.engine.Timings;
import dev.rolloutlab.engine.TokenListener;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiException;
import dev.rolloutlab.openai.RequestParser;
import dev.rolloutlab.openai.Wire;
import dev.rolloutlab.util.Http;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.SpanLog;
import dev.rolloutlab.util.TraceParent;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The two completion endpoints of a port, chat and text: a request parsed and checked, handed to the engine, and
 * answered whole as JSON or, when it asks to stream, by a {@link CompletionStream}.
 */
final class Completions {
    private final InProcessEngine engine;
    final OpenAiServer.Options options;
    final Logprobs logprobs;
    final Aborts aborts;
    private final PromptTokens prompts;
    private final Supplier<ServeMetrics> metrics;
    private final IntSupplier port;

    Completions(
            InProcessEngine engine,
            OpenAiServer.Options options,
            Logprobs logprobs,
            Aborts aborts,
            PromptTokens prompts,
            Supplier<ServeMetrics> metrics,
            IntSupplier port) {
        this.engine = engine;
        this.options = options;
        this.logprobs = logprobs;
        this.aborts = aborts;
        this.prompts = prompts;
        this.metrics = metrics;
        this.port = port;
    }

    /** The port's series, set once it started. */
    ServeMetrics metrics() {
        return metrics.get();
    }

    void handle(Context ctx, CompletionRequest.Endpoint endpoint) throws Exception {
        long t0 = System.nanoTime();
        JsonNode body;
        try {
            body = Json.parse(new String(Http.body(ctx, options.limits().maxRequestBytes()), StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw OpenAiException.badRequest(null, "Invalid JSON: " + e.getOriginalMessage());
        }
        CompletionRequest req = RequestParser.parse(body, endpoint);
        String rid = Aborts.rid(body);
        if (req.model() != null
                && !req.model().equals(options.servedModelName())
                && !req.model().isEmpty()) {
            throw new OpenAiException(
                    404,
                    "The model `" + req.model() + "` does not exist; this server serves `" + options.servedModelName()
                            + "`",
                    "invalid_request_error",
                    "model",
                    "model_not_found");
        }
        TraceParent trace = options.spans().on() ? traceOf(ctx) : null;
        int[] prompt = prompts.tokens(req);
        if (prompt.length == 0)
            throw OpenAiException.badRequest(
                    endpoint == CompletionRequest.Endpoint.CHAT ? "messages" : "prompt", "prompt is empty");
        SamplingParams params;
        try {
            params = new SamplingParams(
                    req.maxTokens(),
                    req.temperature(),
                    req.topP(),
                    req.topK(),
                    req.seed(),
                    req.stopTokenIds(),
                    req.stop(),
                    req.logprobs() ? Math.max(req.topLogprobs(), 0) : 0,
                    req.ignoreEos());
        } catch (IllegalArgumentException e) {
            throw OpenAiException.badRequest(null, e.getMessage());
        }
        GenerationRequest gen = new GenerationRequest(prompt, req.n(), params);
        String id = (endpoint == CompletionRequest.Endpoint.CHAT ? "chatcmpl-" : "cmpl-")
                + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        long created = System.currentTimeMillis() / 1000;
        ctx.header("X-Backend-Id", String.valueOf(options.backendId()));
        // test only: a known cost outside the engine, which the client's breakdown must find in serve's total. A short
        // one is spent on the CPU like serve's own parsing and serialising (a sleep would add the wake-ups of idle
        // threads, which serve's real work does not pay); a long one is a stall, which waits without holding a core
        Duration delay = options.testDelay();
        if (delay.compareTo(OpenAiServer.TEST_DELAY_SPIN_LIMIT) > 0) Thread.sleep(delay);
        else if (!delay.isZero()) {
            long end = System.nanoTime() + delay.toNanos();
            while (System.nanoTime() < end) Thread.onSpinWait();
        }
        if (req.stream()) {
            new CompletionStream(this, ctx, req, gen, id, created, t0, trace).send(rid);
            return;
        }
        Completion c;
        ServeMetrics m = metrics();
        TokenClock clock = m.clock(TokenListener.NONE, gen.n());
        long submitNs = System.nanoTime();
        CompletableFuture<Completion> pending = aborts.track(rid, () -> submit(gen, clock));
        // the engine drops a cancelled request at its next step
        try (ClientGone watch = ClientGone.watch(ctx, () -> pending.cancel(false))) {
            c = pending.get();
            watch.close();
            if (watch.mustClose()) ctx.header("Connection", "close");
        } catch (CancellationException e) {
            m.clientGone();
            throw new OpenAiException(
                    499, "client closed the connection; generation cancelled", "cancelled", null, null);
        } catch (ExecutionException e) {
            throw new OpenAiException(500, "generation failed: " + e.getCause(), "internal_error", null, null);
        }
        ctx.header("X-Weights-Version", String.valueOf(c.minVersion()));
        if (c.maxVersion() != c.minVersion()) ctx.header("X-Weights-Version-Max", String.valueOf(c.maxVersion()));
        long s0 = answer(ctx, c, body(req, c, id, created), t0);
        m.finished(c, clock, t0);
        if (trace != null) spans(trace, c, t0, submitNs, s0, System.nanoTime());
    }

    /** The whole answer's body: a chat completion or a text completion, one choice per sample. */
    private Object body(CompletionRequest req, Completion c, String id, long created) {
        Wire.Usage usage = Wire.Usage.of(
                c.promptTokens(), c.completionTokens(), c.timings().cachedTokens());
        String model = options.servedModelName();
        if (req.endpoint() == CompletionRequest.Endpoint.CHAT) {
            List<Wire.ChatChoice> choices = new ArrayList<>();
            for (Sample s : c.samples()) {
                choices.add(new Wire.ChatChoice(
                        s.index(),
                        new Wire.ChatMessage("assistant", s.text()),
                        req.logprobs() ? logprobs.chat(s, 0, s.completionTokens()) : null,
                        s.finishReason().openai,
                        req.returnTokenIds() ? s.tokenIds() : null,
                        req.returnTokenIds() ? s.versions() : null));
            }
            return new Wire.ChatCompletion(id, "chat.completion", created, model, choices, usage);
        }
        List<Wire.TextChoice> choices = new ArrayList<>();
        for (Sample s : c.samples()) {
            choices.add(new Wire.TextChoice(
                    s.index(),
                    s.text(),
                    req.logprobs() ? logprobs.text(s, req.topLogprobs()) : null,
                    s.finishReason().openai,
                    req.returnTokenIds() ? s.tokenIds() : null,
                    req.returnTokenIds() ? s.versions() : null));
        }
        return new Wire.TextCompletion(id, "text_completion", created, model, choices, usage);
    }

    /**
     * The JSON answer, with the engine's timings and the time spent serialising it in {@code Server-Timing}; returns
     * when serialising began.
     */
    private static long answer(Context ctx, Completion c, Object body, long t0) {
        long s0 = System.nanoTime();
        byte[] bytes = Json.bytes(body);
        long end = System.nanoTime();
        ctx.header("Server-Timing", ServerTiming.header(c.timings(), end - s0, end - t0));
        ctx.status(200).contentType("application/json; charset=utf-8").result(bytes);
        return s0;
    }

    /** The request's trace context when its client records it (a sampled {@code traceparent}), else null. */
    private static TraceParent traceOf(Context ctx) {
        TraceParent t = TraceParent.parse(ctx.header(TraceParent.HEADER));
        return t != null && t.sampled() ? t : null;
    }

    /**
     * One request's spans on this port's track: the whole handler, then parsing (until the engine had it), the engine's
     * queue, prefill and decode (placed from the engine's own timings), and serialising ({@code serializeNs} from
     * {@code s0}; a stream's chunks are serialised between its tokens, so it has only their total).
     */
    void spans(TraceParent trace, Completion c, long t0, long submitNs, long s0, long end) {
        SpanLog log = options.spans();
        String track = "port " + port.getAsInt(), id = trace.traceId();
        Timings t = c.timings();
        log.span(
                track,
                "request",
                t0,
                end,
                id,
                Map.of(
                        "prompt_tokens", c.promptTokens(),
                        "completion_tokens", c.completionTokens(),
                        "cached_tokens", t.cachedTokens(),
                        "parent_id", trace.parentId()));
        log.span(track, "parse", t0, submitNs, id, Map.of());
        if (t.queueNs() < 0) return;
        long admitted = submitNs + t.queueNs(), first = admitted + Math.max(0, t.prefillNs());
        log.span(track, "queue", submitNs, admitted, id, Map.of());
        if (t.prefillNs() >= 0) log.span(track, "prefill", admitted, first, id, Map.of());
        if (t.decodeNs() >= 0) log.span(track, "decode", first, first + t.decodeNs(), id, Map.of());
        if (s0 > 0) log.span(track, "serialize", s0, end, id, Map.of());
    }

    /** Hands the request to the engine; what it refuses is the client's 400. */
    CompletableFuture<Completion> submit(GenerationRequest gen, TokenListener listener) {
        try {
            return engine.submit(gen, listener);
        } catch (ContextLengthException e) {
            throw OpenAiException.badRequest("max_tokens", e.getMessage());
        } catch (InvalidRequestException e) {
            throw OpenAiException.badRequest(e.param, e.getMessage());
        }
    }
}
