package dev.rolloutlab.server;

import static dev.rolloutlab.util.Http.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.ContextLengthException;
import dev.rolloutlab.engine.EngineLoad;
import dev.rolloutlab.engine.FinishReason;
import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.InvalidRequestException;
import dev.rolloutlab.engine.Sample;
import dev.rolloutlab.engine.SamplingParams;
import dev.rolloutlab.engine.StepTotals;
import dev.rolloutlab.engine.Timings;
import dev.rolloutlab.engine.TokenListener;
import dev.rolloutlab.engine.tokenizer.ChatTemplate;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiException;
import dev.rolloutlab.openai.RequestParser;
import dev.rolloutlab.openai.Wire;
import dev.rolloutlab.util.Http;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.SpanLog;
import dev.rolloutlab.util.TraceParent;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.ServerConnector;

/**
 * One OpenAI-compatible port in front of an {@link InProcessEngine}: chat and text completions (streaming included),
 * models, sglang's {@code /get_load}, and, when enabled, the token-protected weight endpoints. Every completion carries
 * {@code X-Backend-Id} and {@code X-Weights-Version}.
 */
public final class OpenAiServer implements AutoCloseable {
    /** Test delays up to this long are spent on the CPU (a cost); longer ones wait (a stall). */
    static final Duration TEST_DELAY_SPIN_LIMIT = Duration.ofMillis(100);

    /**
     * How one port is served. A null {@code apiKey} leaves the OpenAI paths open; a null {@code adminExtension} adds no
     * admin routes beyond the weight endpoints; a non-null {@code link} is a simulated host's link, applied here;
     * {@code publicMetrics} opens {@code /metrics} to anyone who can connect; {@code spans} keeps each request's spans
     * for a run's timeline ({@link SpanLog#OFF}: none).
     */
    public record Options(
            String host,
            int port,
            int backendId,
            String servedModelName,
            String apiKey,
            String adminToken,
            boolean enableWeightReload,
            Duration idleTimeout,
            Limits limits,
            Duration testDelay,
            AdminExtension adminExtension,
            LinkDelay link,
            boolean publicMetrics,
            SpanLog spans) {
        public Options {
            if (enableWeightReload && (adminToken == null || adminToken.isBlank())) {
                throw new IllegalArgumentException(
                        "--enable-weight-reload needs --admin-token (or --admin-token-file): "
                                + "the weight endpoints change what every client receives");
            }
        }
    }

    private static final long KEEPALIVE_POLL_MS = 1000;
    /** Marks a streamed response: its chunks took the link's delay one by one, so the end takes none. */
    private static final String STREAMED = "rolloutlab.streamed";

    private final InProcessEngine engine;
    private final WeightAdmin admin;
    private final Options options;
    private final ChatTemplate template;
    private final Logprobs logprobs;
    private final Javalin app;
    private final Aborts aborts;
    private final PromptTokens prompts;
    /** Set by {@link #start()}, once the port (a label of every series) is known. */
    private volatile ServeMetrics metrics;

    public OpenAiServer(InProcessEngine engine, WeightAdmin admin, Options options) {
        this.engine = engine;
        this.admin = admin;
        this.options = options;
        this.template = new ChatTemplate(engine.tokenizer());
        this.prompts = new PromptTokens(engine, template);
        this.logprobs = new Logprobs(engine.tokenizer());
        this.aborts = new Aborts(engine, options);
        this.app = Http.server(OpenAiErrors::body, cfg -> {
            // pushed safetensors may be large; every route reads its body through Http.body with its own cap
            cfg.http.maxRequestSize = Math.max(
                    options.limits().maxRequestBytes(), options.limits().maxUpdateBytes());
            if (options.link() != null) {
                // the link first: a request reaches the guard, like everything else, one way later
                cfg.routes.before(ctx -> options.link().holdFrom(System.nanoTime()));
                cfg.routes.after(ctx -> {
                    if (ctx.attribute(STREAMED) == null) options.link().holdFrom(System.nanoTime());
                });
            }
            cfg.routes.before(ctx -> Guard.check(ctx, options, admin));
            cfg.jetty.modifyServer(server ->
                    server.addBean(new NetworkConnectionLimit(options.limits().maxConnections(), server)));
            cfg.routes.get("/health", this::health);
            cfg.routes.get("/v1/models", this::models);
            cfg.routes.get("/get_load", this::load);
            cfg.routes.get(
                    "/metrics", // uncompressed: gzip took serve more CPU than the text itself (docs/benchmarks.md)
                    ctx -> ctx.disableCompression()
                            .status(200)
                            .contentType(ServeMetrics.contentType())
                            .result(metrics.render()));
            cfg.routes.post("/abort_request", aborts::handle);
            cfg.routes.post("/v1/chat/completions", ctx -> complete(ctx, CompletionRequest.Endpoint.CHAT));
            cfg.routes.post("/v1/completions", ctx -> complete(ctx, CompletionRequest.Endpoint.COMPLETIONS));
            if (options.enableWeightReload())
                AdminRoutes.add(
                        cfg, admin, options.limits(), options.adminToken(), options.adminExtension(), options.link());
            cfg.routes.exception(OpenAiException.class, (e, ctx) -> json(ctx, e.status, e.body()));
            cfg.routes.exception(
                    Exception.class, (e, ctx) -> { // a bug of ours: the log gets the details, the client an id
                        String ref = Long.toHexString(System.nanoTime());
                        System.err.println("serve: internal error " + ref + " on " + ctx.path() + ": " + e);
                        json(
                                ctx,
                                500,
                                new OpenAiException(
                                                500,
                                                "internal error (ref " + ref + " in the server's log)",
                                                "internal_error",
                                                null,
                                                null)
                                        .body());
                    });
        });
    }

    public OpenAiServer start() {
        app.start(options.host(), options.port());
        metrics = new ServeMetrics(
                engine, options.enableWeightReload() ? admin : null, options.servedModelName(), port());
        for (Connector c : app.jettyServer().server().getConnectors()) {
            if (c instanceof ServerConnector sc)
                sc.setIdleTimeout(options.idleTimeout().toMillis());
        }
        return this;
    }

    public int port() {
        return app.port();
    }

    public String baseUrl() {
        String h = options.host().equals("0.0.0.0") || options.host().equals("::") ? "127.0.0.1" : options.host();
        return "http://" + h + ":" + port();
    }

    public int backendId() {
        return options.backendId();
    }

    @Override
    public void close() {
        app.stop();
    }

    /**
     * 200 while the engine makes progress; 503 naming why once it cannot, so balancers and registries stop routing
     * here.
     */
    private void health(Context ctx) {
        String stalled = engine.stallReason(options.limits().engineStall());
        if (stalled == null) ctx.status(200);
        else json(ctx, 503, new OpenAiException(503, stalled, "service_unavailable", null, "engine_stalled").body());
    }

    private void models(Context ctx) {
        String name = options.servedModelName();
        json(
                ctx,
                200,
                new Wire.ModelList(
                        "list",
                        List.of(new Wire.ModelCard(
                                name,
                                "model",
                                0,
                                "rollout-lab",
                                name,
                                engine.config().maxPositions()))));
    }

    private void load(Context ctx) {
        EngineLoad l = engine.load();
        StepTotals steps = engine.steps();
        json(
                ctx,
                200,
                new Wire.Load(
                        l.runningSequences() + l.waitingRequests(),
                        l.runningSequences(),
                        l.waitingRequests(),
                        l.tokensPerSecond(),
                        l.kvCacheBytes(),
                        l.weightsVersion(),
                        new Wire.PrefixCacheLoad(
                                l.prefixCache().queries(),
                                l.prefixCache().hits(),
                                l.prefixCache().queriedTokens(),
                                l.prefixCache().hitTokens(),
                                l.prefixCache().blocks(),
                                l.prefixCache().bytes(),
                                l.prefixCache().evictions()),
                        new Wire.StepsLoad(
                                steps.steps(), steps.decodeRows(), steps.prefillTokens(), steps.busyNanos() / 1e6)));
    }

    // ---- completions ----

    private void complete(Context ctx, CompletionRequest.Endpoint endpoint) throws Exception {
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
        if (delay.compareTo(TEST_DELAY_SPIN_LIMIT) > 0) Thread.sleep(delay);
        else if (!delay.isZero()) {
            long end = System.nanoTime() + delay.toNanos();
            while (System.nanoTime() < end) Thread.onSpinWait();
        }
        if (req.stream()) {
            stream(ctx, req, gen, id, created, t0, rid, trace);
            return;
        }
        Completion c;
        ServeMetrics m = metrics;
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
        Wire.Usage usage = Wire.Usage.of(
                c.promptTokens(), c.completionTokens(), c.timings().cachedTokens());
        String model = options.servedModelName();
        if (endpoint == CompletionRequest.Endpoint.CHAT) {
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
            long s0 =
                    answer(ctx, c, new Wire.ChatCompletion(id, "chat.completion", created, model, choices, usage), t0);
            m.finished(c, clock, t0);
            if (trace != null) spans(trace, c, t0, submitNs, s0, System.nanoTime());
        } else {
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
            long s0 =
                    answer(ctx, c, new Wire.TextCompletion(id, "text_completion", created, model, choices, usage), t0);
            m.finished(c, clock, t0);
            if (trace != null) spans(trace, c, t0, submitNs, s0, System.nanoTime());
        }
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
    private void spans(TraceParent trace, Completion c, long t0, long submitNs, long s0, long end) {
        SpanLog log = options.spans();
        String track = "port " + port(), id = trace.traceId();
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

    private CompletableFuture<Completion> submit(GenerationRequest gen, TokenListener listener) {
        try {
            return engine.submit(gen, listener);
        } catch (ContextLengthException e) {
            throw OpenAiException.badRequest("max_tokens", e.getMessage());
        } catch (InvalidRequestException e) {
            throw OpenAiException.badRequest(e.param, e.getMessage());
        }
    }

    /** One token or finish from the engine thread to the HTTP thread, and when it was produced. */
    private record Event(
            int sample, int tokenId, float logprob, long version, String text, FinishReason finish, long atNs) {}

    private void stream(
            Context ctx,
            CompletionRequest req,
            GenerationRequest gen,
            String id,
            long created,
            long t0,
            String rid,
            TraceParent trace)
            throws Exception {
        LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
        ServeMetrics m = metrics;
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
        CompletableFuture<Completion> done = aborts.track(rid, () -> submit(gen, clock));
        boolean chat = req.endpoint() == CompletionRequest.Endpoint.CHAT;
        String model = options.servedModelName();
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
        LinkDelay link = options.link() != null && options.link().active() ? options.link() : null;
        // the link's delay of the last chunk written: the network's, left out of serve's own total
        long linkNs = 0;
        // A chunk enters the link when a real server would have written it: when this thread took it, if it was
        // waiting, else (still holding earlier chunks) its production plus the last such wake-up. Counting from
        // production instead let the wake-up (~0.1 ms here) hide inside a short link's delay.
        long wakeNs = Math.max(0, System.nanoTime() - Math.max(first.atNs(), waitingSince));
        if (link != null) {
            ctx.attribute(STREAMED, true);
            linkNs = link.holdFrom(first.atNs() + wakeNs);
        }
        long[] serializeNs = {0};
        int[] counts = new int[gen.n()];
        if (chat) {
            for (int i = 0; i < gen.n(); i++) {
                serializeNs[0] += send(
                        out,
                        new Wire.ChatChunk(
                                id,
                                "chat.completion.chunk",
                                created,
                                model,
                                List.of(new Wire.ChunkChoice(
                                        i, new Wire.Delta("assistant", ""), null, null, null, null)),
                                null));
            }
        }
        int finished = 0;
        Event e = first;
        try {
            while (true) {
                if (link != null) linkNs = link.holdFrom(e.atNs() + wakeNs);
                if (e.finish() != null) {
                    finished++;
                    if (chat)
                        serializeNs[0] += send(
                                out,
                                new Wire.ChatChunk(
                                        id,
                                        "chat.completion.chunk",
                                        created,
                                        model,
                                        List.of(new Wire.ChunkChoice(
                                                e.sample(),
                                                new Wire.Delta(null, null),
                                                null,
                                                e.finish().openai,
                                                null,
                                                null)),
                                        null));
                    else
                        serializeNs[0] += send(
                                out,
                                new Wire.TextCompletion(
                                        id,
                                        "text_completion",
                                        created,
                                        model,
                                        List.of(new Wire.TextChoice(
                                                e.sample(), "", null, e.finish().openai, null, null)),
                                        null));
                    if (finished == gen.n()) break;
                } else {
                    counts[e.sample()]++;
                    int[] ids = req.returnTokenIds() ? new int[] {e.tokenId()} : null;
                    long[] versions = req.returnTokenIds() ? new long[] {e.version()} : null;
                    if (chat) {
                        Wire.ChatLogprobs lp = req.logprobs()
                                ? new Wire.ChatLogprobs(List.of(logprobs.token(e.tokenId(), e.logprob(), List.of())))
                                : null;
                        serializeNs[0] += send(
                                out,
                                new Wire.ChatChunk(
                                        id,
                                        "chat.completion.chunk",
                                        created,
                                        model,
                                        List.of(new Wire.ChunkChoice(
                                                e.sample(), new Wire.Delta(null, e.text()), lp, null, ids, versions)),
                                        null));
                    } else {
                        Wire.TextLogprobs lp = req.logprobs()
                                ? new Wire.TextLogprobs(
                                        List.of(logprobs.tokenText(e.tokenId())),
                                        List.of((double) e.logprob()),
                                        null,
                                        null)
                                : null;
                        serializeNs[0] += send(
                                out,
                                new Wire.TextCompletion(
                                        id,
                                        "text_completion",
                                        created,
                                        model,
                                        List.of(new Wire.TextChoice(e.sample(), e.text(), lp, null, ids, versions)),
                                        null));
                    }
                }
                waitingSince = System.nanoTime();
                e = events.take();
                if (e.atNs() >= waitingSince) wakeNs = System.nanoTime() - e.atNs();
            }
            // the last chunk: usage when asked for, and always the server timings (an extension field clients ignore)
            Map<String, Object> last = new LinkedHashMap<>();
            last.put("id", id);
            last.put("object", chat ? "chat.completion.chunk" : "text_completion");
            last.put("created", created);
            last.put("model", model);
            last.put("choices", List.of());
            Completion c;
            try {
                c = done.get(5, TimeUnit.SECONDS); // completes right after the last sample's finish event
            } catch (ExecutionException | TimeoutException notYet) {
                c = null;
            }
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
            long answeredNs = System.nanoTime(); // before the last write: the client cannot see the end sooner
            last.put(
                    "server_timing",
                    ServerTiming.json(
                            c != null ? c.timings() : Timings.UNKNOWN,
                            serializeNs[0],
                            System.nanoTime() - t0 - linkNs));
            send(out, last);
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            if (c != null) {
                m.finished(c, clock, t0);
                if (trace != null) spans(trace, c, t0, submitNs, -1, answeredNs);
            }
        } catch (IOException clientGone) {
            done.cancel(false); // the engine drops a cancelled request at its next step
            m.clientGone();
        }
    }

    /**
     * Writes one SSE event; returns the nanoseconds spent serialising it (the server's own cost, apart from the
     * socket).
     */
    private static long send(OutputStream out, Object chunk) throws IOException {
        long s0 = System.nanoTime();
        byte[] json = Json.bytes(chunk);
        long ns = System.nanoTime() - s0;
        out.write(DATA);
        out.write(json);
        out.write(END);
        out.flush();
        return ns;
    }

    private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
}
