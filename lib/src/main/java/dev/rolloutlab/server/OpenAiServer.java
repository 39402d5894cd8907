package dev.rolloutlab.server;

import static dev.rolloutlab.util.Http.json;

import dev.rolloutlab.engine.EngineLoad;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.StepTotals;
import dev.rolloutlab.engine.tokenizer.ChatTemplate;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiException;
import dev.rolloutlab.openai.Wire;
import dev.rolloutlab.util.Http;
import dev.rolloutlab.util.SpanLog;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.List;
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

    /** Marks a streamed response: its chunks took the link's delay one by one, so the end takes none. */
    static final String STREAMED = "rolloutlab.streamed";

    private final InProcessEngine engine;
    private final WeightAdmin admin;
    private final Options options;
    private final Javalin app;
    private final Completions completions;
    /** Set by {@link #start()}, once the port (a label of every series) is known. */
    private volatile ServeMetrics metrics;

    public OpenAiServer(InProcessEngine engine, WeightAdmin admin, Options options) {
        this.engine = engine;
        this.admin = admin;
        this.options = options;
        Aborts aborts = new Aborts(engine, options);
        this.completions = new Completions(
                engine,
                options,
                new Logprobs(engine.tokenizer()),
                aborts,
                new PromptTokens(engine, new ChatTemplate(engine.tokenizer())),
                () -> metrics,
                this::port);
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
            cfg.routes.post("/v1/chat/completions", ctx -> completions.handle(ctx, CompletionRequest.Endpoint.CHAT));
            cfg.routes.post("/v1/completions", ctx -> completions.handle(ctx, CompletionRequest.Endpoint.COMPLETIONS));
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
}
