package dev.rolloutlab.lb;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.cluster.Registry;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.util.Json;
import static dev.rolloutlab.util.Http.json;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import okhttp3.Call;
import okhttp3.ConnectionPool;
import okhttp3.Headers;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OpenAI load balancer: pooled keep-alive connections on both sides, a routing {@link Policy}, failover that
 * only retries before the first response byte (so no request is answered twice), a passive circuit breaker with
 * active health checks, and chunk-by-chunk relay of streamed responses. Backends come from a list or a registry.
 */
public final class LoadBalancer implements AutoCloseable {
    /** How the balancer runs; a null {@code registryUrl} means {@code backends} is the fixed set. */
    public record Options(String listenHost, int listenPort, List<String> backends, String registryUrl, Policy policy,
                          String apiKey, String adminToken, Duration backendTimeout, Duration healthInterval,
                          int breakerFailures, Duration breakerCooldown) {
        public static Options of(List<String> backends, Policy policy) {
            return new Options("127.0.0.1", 0, backends, null, policy, null, null, Duration.ofSeconds(60), Duration.ofSeconds(1),
                    3, Duration.ofSeconds(5));
        }

        public Options withBackendTimeout(Duration d) {
            return new Options(listenHost, listenPort, backends, registryUrl, policy, apiKey, adminToken, d, healthInterval,
                    breakerFailures, breakerCooldown);
        }

        public Options withAdminToken(String t) {
            return new Options(listenHost, listenPort, backends, registryUrl, policy, apiKey, t, backendTimeout, healthInterval,
                    breakerFailures, breakerCooldown);
        }

        public Options withHealthInterval(Duration d) {
            return new Options(listenHost, listenPort, backends, registryUrl, policy, apiKey, adminToken, backendTimeout, d,
                    breakerFailures, breakerCooldown);
        }
    }

    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
            "te", "trailers", "trailer", "upgrade", "transfer-encoding", "content-length", "host");
    private static final MediaType OCTETS = MediaType.get("application/octet-stream");

    private final Options o;
    private final OkHttpClient http;
    private final OkHttpClient probeHttp;
    private final AtomicLong counter = new AtomicLong();
    private volatile List<Backend> backends;
    private final Javalin app;
    private final ScheduledExecutorService background;
    private final AtomicLong allFailed = new AtomicLong();

    public LoadBalancer(Options options) {
        this.o = options;
        this.http = new OkHttpClient.Builder()
                .connectionPool(new ConnectionPool(512, 5, TimeUnit.MINUTES))
                .retryOnConnectionFailure(false)
                .socketFactory(dev.rolloutlab.openai.NoDelaySockets.INSTANCE)
                .followRedirects(false)
                .connectTimeout(options.backendTimeout())
                .readTimeout(options.backendTimeout())
                .writeTimeout(options.backendTimeout())
                .build();
        this.probeHttp = http.newBuilder().connectTimeout(Duration.ofSeconds(1)).readTimeout(Duration.ofSeconds(2)).build();
        List<Backend> initial = new ArrayList<>();
        if (options.registryUrl() == null) {
            if (options.backends() == null || options.backends().isEmpty()) throw new IllegalArgumentException("backends must not be empty");
            for (String b : options.backends()) initial.add(newBackend(b));
        }
        this.backends = List.copyOf(initial);
        if (options.registryUrl() != null) refreshFromRegistry();
        this.app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.http.maxRequestSize = 1L << 31;
            cfg.routes.get("/health", this::health);
            cfg.routes.get("/admin/backends", this::adminBackends);
            cfg.routes.post("/admin/drain", ctx -> drain(ctx, true));
            cfg.routes.post("/admin/undrain", ctx -> drain(ctx, false));
            cfg.routes.get("/metrics", this::metrics);
            for (HandlerType t : new HandlerType[]{HandlerType.GET, HandlerType.POST, HandlerType.PUT, HandlerType.DELETE,
                    HandlerType.PATCH, HandlerType.OPTIONS, HandlerType.HEAD}) {
                cfg.routes.addHttpHandler(t, "/<path>", this::proxy);
            }
        });
        background = Executors.newScheduledThreadPool(1, Thread.ofPlatform().name("lb-health").daemon(true).factory());
        app.start(options.listenHost(), options.listenPort());
        long ms = options.healthInterval().toMillis();
        background.scheduleWithFixedDelay(this::probeAll, ms, ms, TimeUnit.MILLISECONDS);
        if (options.registryUrl() != null) background.scheduleWithFixedDelay(this::refreshFromRegistry, 2, 2, TimeUnit.SECONDS);
    }

    private static Backend newBackend(String spec) {
        String url = OpenAiClient.normalize(spec);
        okhttp3.HttpUrl u = okhttp3.HttpUrl.parse(url);
        return new Backend(url, u.host() + ":" + u.port());
    }

    public int port() {
        return app.port();
    }

    public String url() {
        String h = o.listenHost().equals("0.0.0.0") ? "127.0.0.1" : o.listenHost();
        return "http://" + h + ":" + port();
    }

    public List<Backend> backends() {
        return backends;
    }

    @Override
    public void close() {
        background.shutdownNow();
        app.stop();
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }

    // ---- backend set ----

    private void refreshFromRegistry() {
        try {
            List<String> now = Registry.fetchBackends(o.registryUrl(), Duration.ofSeconds(5)).backends();
            Map<String, Backend> old = new LinkedHashMap<>();
            for (Backend b : backends) old.put(b.url, b);
            List<Backend> next = new ArrayList<>();
            for (String s : now) {
                Backend fresh = newBackend(s);
                next.add(old.getOrDefault(fresh.url, fresh));
            }
            // removed backends drop out of selection; requests already on them finish (they hold their reference)
            backends = List.copyOf(next);
        } catch (RuntimeException e) {
            System.err.println("lb: registry " + o.registryUrl() + " unreachable, keeping " + backends.size() + " backends: " + e.getMessage());
        }
    }

    private void probeAll() {
        for (Backend b : backends) {
            boolean ok = probe(b, "/health");
            if (ok && b.updating && System.nanoTime() >= b.unavailableUntilNs) {
                // a backend mid-update answers /health; only a 200 from a model path says it serves again
                if (probe(b, "/v1/models")) b.updating = false;
            }
            b.probed(ok);
            if (ok && (o.policy() == Policy.LEAST_LOAD || o.policy() == Policy.P2C)) b.reportedLoad = fetchLoad(b);
        }
    }

    private boolean probe(Backend b, String path) {
        Request.Builder r = new Request.Builder().url(b.url + path);
        if (o.apiKey() != null) r.header("Authorization", "Bearer " + o.apiKey());
        try (Response resp = probeHttp.newCall(r.build()).execute()) {
            return resp.code() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    private int fetchLoad(Backend b) {
        try (Response resp = probeHttp.newCall(new Request.Builder().url(b.url + "/get_load").build()).execute()) {
            if (resp.code() != 200) return -1;
            JsonNode n = Json.parse(resp.body().string());
            if (n.isArray()) {
                int s = 0;
                for (JsonNode e : n) s += e.path("num_reqs").asInt(0);
                return s;
            }
            return n.path("num_reqs").asInt(-1);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    // ---- own endpoints ----

    private void health(Context ctx) {
        counter.getAndIncrement(); // the seed's /health takes a turn of the round-robin counter too
        long now = System.nanoTime();
        for (Backend b : backends) {
            if (b.healthy && now >= b.breakerOpenUntilNs) {
                ctx.status(200);
                return;
            }
        }
        ctx.status(503);
    }

    private void adminBackends(Context ctx) {
        long now = System.nanoTime();
        List<String> labels = new ArrayList<>();
        List<Map<String, Object>> state = new ArrayList<>();
        for (Backend b : backends) {
            labels.add(b.label);
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("backend", b.label);
            s.put("url", b.url);
            s.put("healthy", b.healthy);
            s.put("in_flight", b.inFlight.get());
            s.put("reported_load", b.reportedLoad);
            s.put("breaker", b.breakerState(now));
            s.put("draining", b.draining);
            s.put("updating", b.updating);
            s.put("requests", b.requests.get());
            s.put("errors", b.errors.get());
            state.add(s);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("ok", true);
        r.put("backends", labels);
        r.put("policy", o.policy().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        r.put("state", state);
        json(ctx, 200, r);
    }

    private void drain(Context ctx, boolean on) {
        if (o.adminToken() == null) {
            json(ctx, 403, Map.of("ok", false, "error", "drain is disabled: start the lb with --admin-token"));
            return;
        }
        if (!("Bearer " + o.adminToken()).equals(ctx.header("Authorization")) && !o.adminToken().equals(ctx.header("X-Admin-Token"))) {
            json(ctx, 401, Map.of("ok", false, "error", "unauthorized"));
            return;
        }
        String which;
        try {
            which = Json.parse(ctx.body().isBlank() ? "{}" : ctx.body()).path("backend").asText("");
        } catch (IOException e) {
            json(ctx, 400, Map.of("ok", false, "error", "Invalid JSON"));
            return;
        }
        for (Backend b : backends) {
            if (b.label.equals(which) || b.url.equals(which)) {
                b.draining = on;
                json(ctx, 200, Map.of("ok", true, "backend", b.label, "draining", on, "in_flight", b.inFlight.get()));
                return;
            }
        }
        json(ctx, 404, Map.of("ok", false, "error", "unknown backend: " + which));
    }

    private void metrics(Context ctx) {
        StringBuilder sb = new StringBuilder(4096);
        sb.append("# TYPE lb_requests_total counter\n");
        for (Backend b : backends) line(sb, "lb_requests_total", b, null, b.requests.get());
        sb.append("# TYPE lb_errors_total counter\n");
        for (Backend b : backends) line(sb, "lb_errors_total", b, null, b.errors.get());
        sb.append("# TYPE lb_retries_total counter\n");
        for (Backend b : backends) line(sb, "lb_retries_total", b, null, b.retries.get());
        sb.append("# TYPE lb_in_flight gauge\n");
        for (Backend b : backends) line(sb, "lb_in_flight", b, null, b.inFlight.get());
        sb.append("# TYPE lb_backend_healthy gauge\n");
        for (Backend b : backends) line(sb, "lb_backend_healthy", b, null, b.healthy ? 1 : 0);
        sb.append("# TYPE lb_request_duration_seconds histogram\n");
        for (Backend b : backends) {
            long cum = 0;
            for (int i = 0; i <= Backend.BUCKETS.length; i++) {
                cum += b.buckets.get(i);
                line(sb, "lb_request_duration_seconds_bucket", b, i < Backend.BUCKETS.length ? String.valueOf(Backend.BUCKETS[i]) : "+Inf", cum);
            }
            sb.append("lb_request_duration_seconds_sum{backend=\"").append(b.label).append("\"} ")
                    .append(b.latencySumMicros.get() / 1e6).append('\n');
            line(sb, "lb_request_duration_seconds_count", b, null, cum);
        }
        sb.append("# TYPE lb_all_backends_failed_total counter\nlb_all_backends_failed_total ").append(allFailed.get()).append('\n');
        ctx.status(200).contentType("text/plain; version=0.0.4").result(sb.toString());
    }

    private static void line(StringBuilder sb, String name, Backend b, String le, long v) {
        sb.append(name).append("{backend=\"").append(b.label).append('"');
        if (le != null) sb.append(",le=\"").append(le).append('"');
        sb.append("} ").append(v).append('\n');
    }


    // ---- the proxy ----

    private void proxy(Context ctx) throws IOException {
        HttpServletRequest req = ctx.req();
        if (o.apiKey() != null && !o.apiKey().isEmpty() && !("Bearer " + o.apiKey()).equals(req.getHeader("Authorization"))) {
            json(ctx, 401, Map.of("error", "unauthorized"));
            return;
        }
        List<Backend> list = backends;
        if (list.isEmpty()) {
            json(ctx, 502, Map.of("error", "all backends failed", "detail", "no backends registered"));
            return;
        }
        String target = req.getRequestURI() + (req.getQueryString() != null ? "?" + req.getQueryString() : "");
        byte[] body = ctx.bodyAsBytes(); // kept for failover: a retry must resend it
        Headers headers = forwardHeaders(req);
        String method = req.getMethod();
        RequestBody rb = body.length > 0 || method.equals("POST") || method.equals("PUT") || method.equals("PATCH")
                ? RequestBody.create(body, contentType(req)) : null;

        int[] order = new int[list.size()];
        o.policy().order(list, counter, order);
        long now = System.nanoTime();
        String lastError = "unknown";
        // available backends first in policy order, then the rest as a last resort (except those draining)
        for (int pass = 0; pass < 2; pass++) {
            for (int idx : order) {
                Backend b = list.get(idx);
                boolean avail = b.available(now);
                if ((pass == 0) != avail || (pass == 1 && b.draining)) continue;
                Request r = new Request.Builder().url(b.url + target).headers(headers).method(method, rb).build();
                b.requests.incrementAndGet();
                b.inFlight.incrementAndGet();
                long t0 = System.nanoTime();
                Call call = http.newCall(r);
                Response resp;
                try {
                    resp = call.execute();
                } catch (IOException e) {
                    b.inFlight.decrementAndGet();
                    b.failure(o.breakerFailures(), o.breakerCooldown().toNanos());
                    b.retries.incrementAndGet();
                    lastError = b.label + ": " + e;
                    continue;
                }
                try {
                    String retryAfter = resp.header("Retry-After");
                    if (resp.code() == 503 && retryAfter != null) {
                        // mid-update: this backend gets no new requests until a probe sees it serving again
                        b.updating = true;
                        b.unavailableUntilNs = System.nanoTime() + parseSeconds(retryAfter);
                        b.retries.incrementAndGet();
                        lastError = b.label + ": 503 Retry-After " + retryAfter;
                        resp.close();
                        continue;
                    }
                    relay(ctx, call, resp, b);
                    b.success();
                } finally {
                    b.inFlight.decrementAndGet();
                    b.observe(System.nanoTime() - t0);
                }
                return;
            }
        }
        allFailed.incrementAndGet();
        json(ctx, 502, Map.of("error", "all backends failed", "detail", lastError));
    }

    private static long parseSeconds(String s) {
        try {
            return (long) (Double.parseDouble(s.trim()) * 1e9);
        } catch (NumberFormatException e) {
            return 1_000_000_000L;
        }
    }

    private static MediaType contentType(HttpServletRequest req) {
        String ct = req.getContentType();
        MediaType m = ct == null ? null : MediaType.parse(ct);
        return m != null ? m : OCTETS;
    }

    private static Headers forwardHeaders(HttpServletRequest req) {
        Headers.Builder h = new Headers.Builder();
        for (Enumeration<String> names = req.getHeaderNames(); names.hasMoreElements(); ) {
            String name = names.nextElement();
            if (HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT)) || name.equalsIgnoreCase("content-type")) continue;
            for (Enumeration<String> v = req.getHeaders(name); v.hasMoreElements(); ) h.addUnsafeNonAscii(name, v.nextElement());
        }
        return h.build();
    }

    /** Copies status, headers and body; after this starts nothing is retried. Streams are flushed per read. */
    private void relay(Context ctx, Call call, Response resp, Backend b) throws IOException {
        HttpServletResponse res = ctx.res();
        res.setStatus(resp.code());
        for (String name : resp.headers().names()) {
            if (HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) continue;
            for (String v : resp.headers(name)) res.addHeader(name, v);
        }
        res.setHeader("X-OpenAI-LB-Backend", b.label);
        long len = resp.body().contentLength();
        boolean stream = len < 0;
        if (!stream) res.setContentLengthLong(len);
        OutputStream out;
        InputStream in = resp.body().byteStream();
        try {
            out = res.getOutputStream();
        } catch (IOException e) {
            call.cancel();
            throw e;
        }
        byte[] buf = new byte[16 * 1024];
        try (resp) {
            int n;
            while ((n = in.read(buf)) > 0) {
                try {
                    out.write(buf, 0, n);
                    if (stream) out.flush();
                } catch (IOException clientGone) {
                    call.cancel(); // the backend sees the connection close and drops the generation
                    throw clientGone;
                }
            }
            out.flush();
        } catch (IOException e) {
            b.errors.incrementAndGet();
            throw e; // after the first byte: abort the client connection, never retry
        }
    }
}
