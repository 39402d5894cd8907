package dev.rolloutlab.lb;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.cluster.Registry;
import dev.rolloutlab.http1.Head;
import dev.rolloutlab.http1.Http1Connection;
import dev.rolloutlab.http1.Http1Pool;
import dev.rolloutlab.http1.HttpIn;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.util.Json;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OpenAI load balancer: pooled keep-alive connections on both sides, a routing {@link Policy}, failover that
 * only retries before the first response byte (so no request is answered twice), a passive circuit breaker with
 * active health checks, and chunk-by-chunk relay of streamed responses. Backends come from a list or a registry.
 * The relay is a blocking HTTP/1.1 proxy ({@code http1}): one thread per client connection, one pass over headers,
 * so the balancer costs little CPU and latency next to the backends it fronts.
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

    /** Headers that describe one hop, plus the framing and host the relay sets itself; never copied across. */
    private static final String[] HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
            "te", "trailers", "trailer", "upgrade", "transfer-encoding", "content-length", "host", "expect", "proxy-connection"};

    /** Case-insensitive membership without allocating (this runs for every header of every request and response). */
    private static boolean hopByHop(String name) {
        for (String h : HOP_BY_HOP) if (h.length() == name.length() && h.equalsIgnoreCase(name)) return true;
        return false;
    }
    /** Request bodies up to this size are kept for failover; larger ones stream to one backend, without retries. */
    static final int BUFFERED_BODY_LIMIT = 8 << 20;
    /** A client connection idle this long between requests is closed. */
    private static final int CLIENT_IDLE_MS = 120_000;
    private static final Duration POOL_MAX_IDLE = Duration.ofSeconds(4);

    private final Options o;
    private final OkHttpClient probeHttp;
    private final AtomicLong counter = new AtomicLong();
    private volatile List<Backend> backends;
    private final ServerSocket server;
    private final Set<Socket> clients = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService background;
    private final AtomicLong allFailed = new AtomicLong();
    private volatile boolean closed;

    public LoadBalancer(Options options) {
        this.o = options;
        this.probeHttp = OpenAiClient.http(16, Duration.ofSeconds(2)).newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        List<Backend> initial = new ArrayList<>();
        if (options.registryUrl() == null) {
            if (options.backends() == null || options.backends().isEmpty()) throw new IllegalArgumentException("backends must not be empty");
            for (String b : options.backends()) initial.add(newBackend(b));
        }
        this.backends = List.copyOf(initial);
        if (options.registryUrl() != null) refreshFromRegistry();
        try {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getByName(options.listenHost()), options.listenPort()), 1024);
        } catch (IOException e) {
            throw new IllegalStateException("lb cannot listen on " + options.listenHost() + ":" + options.listenPort() + ": " + e.getMessage(), e);
        }
        Thread.ofPlatform().name("lb-accept").daemon(true).start(this::acceptLoop);
        background = Executors.newScheduledThreadPool(1, Thread.ofPlatform().name("lb-health").daemon(true).factory());
        long ms = options.healthInterval().toMillis();
        background.scheduleWithFixedDelay(this::probeAll, ms, ms, TimeUnit.MILLISECONDS);
        if (options.registryUrl() != null) background.scheduleWithFixedDelay(this::refreshFromRegistry, 2, 2, TimeUnit.SECONDS);
    }

    private Backend newBackend(String spec) {
        String url = OpenAiClient.normalize(spec);
        okhttp3.HttpUrl u = okhttp3.HttpUrl.parse(url);
        Http1Pool pool = new Http1Pool(u.host(), u.port(), u.isHttps(), o.backendTimeout(), o.backendTimeout(), POOL_MAX_IDLE);
        return new Backend(url, u.host() + ":" + u.port(), u.host() + ":" + u.port(), pool);
    }

    public int port() {
        return server.getLocalPort();
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
        closed = true;
        background.shutdownNow();
        try {
            server.close();
        } catch (IOException ignored) {
            // already closed
        }
        for (Socket s : clients) closeQuietly(s);
        for (Backend b : backends) b.pool.close();
        probeHttp.dispatcher().executorService().shutdown();
        probeHttp.connectionPool().evictAll();
    }

    // ---- backend set ----

    private void refreshFromRegistry() {
        try {
            List<String> now = Registry.fetchBackends(o.registryUrl(), Duration.ofSeconds(5)).backends();
            Map<String, Backend> old = new LinkedHashMap<>();
            for (Backend b : backends) old.put(b.url, b);
            List<Backend> next = new ArrayList<>();
            for (String s : now) {
                Backend kept = old.get(OpenAiClient.normalize(s));
                next.add(kept != null ? kept : newBackend(s));
            }
            // removed backends drop out of selection; requests already on them finish (they hold their reference)
            backends = List.copyOf(next);
            for (Backend b : old.values()) if (!next.contains(b)) b.pool.close();
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

    // ---- client connections ----

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (closed) return;
                System.err.println("lb: accept failed: " + e.getMessage());
                continue;
            }
            clients.add(s);
            // A platform thread per connection, not a virtual one: a blocked read then wakes its own thread, while a
            // virtual thread is woken through the JDK's poller and a carrier, a hand-off that measured +100 µs p50
            // per proxied request on two busy cores (docs/benchmarks.md). Small stacks keep thousands affordable.
            Thread.ofPlatform().name("lb-conn").daemon(true).stackSize(256 * 1024).start(() -> serve(s));
        }
    }

    /** Serves one client connection: requests one after another until either side closes it. */
    private void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(CLIENT_IDLE_MS);
            HttpIn in = new HttpIn(s.getInputStream());
            OutputStream out = new BufferedOutputStream(s.getOutputStream(), 16 * 1024);
            byte[] relayBuf = new byte[16 * 1024]; // one per connection: requests on it run one at a time
            while (!closed) {
                Head h;
                try {
                    h = in.readHead(true);
                } catch (ProtocolException e) {
                    respond(out, 400, Map.of("error", "bad request: " + e.getMessage()), false);
                    return;
                }
                if (h == null || !handle(h, in, out, relayBuf)) return;
            }
        } catch (IOException e) {
            // the client went away, timed out, or a relay was aborted: the connection is closed either way
        } finally {
            clients.remove(s);
        }
    }

    /** Handles one request; returns whether the client connection stays open. */
    private boolean handle(Head h, HttpIn in, OutputStream out, byte[] relayBuf) throws IOException {
        boolean keep = h.keepAlive();
        String target = h.target();
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        String m = h.method();
        HttpIn.Body body = in.requestBody(h);
        if ("100-continue".equalsIgnoreCase(h.header("Expect")) && !body.complete()) {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
        boolean own = m.equals("GET") && (path.equals("/health") || path.equals("/admin/backends") || path.equals("/metrics"))
                || m.equals("POST") && (path.equals("/admin/drain") || path.equals("/admin/undrain"));
        if (own) {
            byte[] b = body.readAll(1 << 20);
            switch (path) {
                case "/health" -> respondBytes(out, health(), null, new byte[0], keep);
                case "/admin/backends" -> respond(out, 200, adminBackends(), keep);
                case "/metrics" -> respondBytes(out, 200, "text/plain; version=0.0.4", metrics(), keep);
                default -> drain(h, b, path.equals("/admin/drain"), out, keep);
            }
            return keep;
        }
        return proxy(h, body, out, keep, relayBuf);
    }

    // ---- own endpoints ----

    private int health() {
        counter.getAndIncrement(); // the seed's /health takes a turn of the round-robin counter too
        long now = System.nanoTime();
        for (Backend b : backends) if (b.healthy && now >= b.breakerOpenUntilNs) return 200;
        return 503;
    }

    private Map<String, Object> adminBackends() {
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
        return r;
    }

    private void drain(Head h, byte[] body, boolean on, OutputStream out, boolean keep) throws IOException {
        if (o.adminToken() == null) {
            respond(out, 403, Map.of("ok", false, "error", "drain is disabled: start the lb with --admin-token"), keep);
            return;
        }
        if (!("Bearer " + o.adminToken()).equals(h.header("Authorization")) && !o.adminToken().equals(h.header("X-Admin-Token"))) {
            respond(out, 401, Map.of("ok", false, "error", "unauthorized"), keep);
            return;
        }
        String which;
        try {
            String text = new String(body, StandardCharsets.UTF_8);
            which = Json.parse(text.isBlank() ? "{}" : text).path("backend").asText("");
        } catch (IOException e) {
            respond(out, 400, Map.of("ok", false, "error", "Invalid JSON"), keep);
            return;
        }
        for (Backend b : backends) {
            if (b.label.equals(which) || b.url.equals(which)) {
                b.draining = on;
                respond(out, 200, Map.of("ok", true, "backend", b.label, "draining", on, "in_flight", b.inFlight.get()), keep);
                return;
            }
        }
        respond(out, 404, Map.of("ok", false, "error", "unknown backend: " + which), keep);
    }

    private byte[] metrics() {
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
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void line(StringBuilder sb, String name, Backend b, String le, long v) {
        sb.append(name).append("{backend=\"").append(b.label).append('"');
        if (le != null) sb.append(",le=\"").append(le).append('"');
        sb.append("} ").append(v).append('\n');
    }


    private static void respond(OutputStream out, int status, Object json, boolean keep) throws IOException {
        respondBytes(out, status, "application/json", Json.bytes(json), keep);
    }

    private static void respondBytes(OutputStream out, int status, String contentType, byte[] body, boolean keep) throws IOException {
        StringBuilder sb = new StringBuilder(128).append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
        if (contentType != null) sb.append("Content-Type: ").append(contentType).append("\r\n");
        sb.append("Content-Length: ").append(body.length).append("\r\n");
        if (!keep) sb.append("Connection: close\r\n");
        out.write(sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 413 -> "Content Too Large";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }

    // ---- the proxy ----

    /** One client request on its way through the balancer. */
    private static final class Exchange {
        final Head head;
        final byte[] body;          // null when the body is too large to keep: it streams from {@code bodyIn}
        final HttpIn.Body bodyIn;
        final String forwardHeaders; // header lines for the backend after Host, ending with the blank line
        final OutputStream out;
        final boolean keep;
        final byte[] buf;
        boolean bodySent;           // a streamed body was (partly) sent: no failover possible any more
        String lastError = "unknown";

        Exchange(Head head, byte[] body, HttpIn.Body bodyIn, String forwardHeaders, OutputStream out, boolean keep, byte[] buf) {
            this.head = head;
            this.body = body;
            this.bodyIn = bodyIn;
            this.forwardHeaders = forwardHeaders;
            this.out = out;
            this.keep = keep;
            this.buf = buf;
        }
    }

    private boolean proxy(Head h, HttpIn.Body bodyIn, OutputStream out, boolean keep, byte[] relayBuf) throws IOException {
        if (o.apiKey() != null && !o.apiKey().isEmpty() && !("Bearer " + o.apiKey()).equals(h.header("Authorization"))) {
            bodyIn.readAll(BUFFERED_BODY_LIMIT);
            respond(out, 401, Map.of("error", "unauthorized"), keep);
            return keep;
        }
        boolean large = bodyIn.fixed() && bodyIn.length() > BUFFERED_BODY_LIMIT;
        byte[] body;
        try {
            body = large ? null : bodyIn.readAll(BUFFERED_BODY_LIMIT);
        } catch (ProtocolException e) {
            respond(out, 413, Map.of("error", "request body too large: " + e.getMessage()), false);
            return false;
        }
        List<Backend> list = backends;
        if (list.isEmpty()) {
            respond(out, 502, Map.of("error", "all backends failed", "detail", "no backends registered"), keep && !large);
            return keep && !large;
        }
        String m = h.method();
        long len = large ? bodyIn.length() : body.length;
        boolean withLength = len > 0 || m.equals("POST") || m.equals("PUT") || m.equals("PATCH");
        Exchange ex = new Exchange(h, body, bodyIn, forwardHeaders(h, withLength ? len : -1), out, keep, relayBuf);

        int[] order = new int[list.size()];
        o.policy().order(list, counter, order);
        long now = System.nanoTime();
        // available backends first in policy order, then the rest as a last resort (except those draining)
        for (int pass = 0; pass < 2 && !ex.bodySent; pass++) {
            for (int idx : order) {
                Backend b = list.get(idx);
                boolean avail = b.available(now);
                if ((pass == 0) != avail || (pass == 1 && b.draining)) continue;
                Boolean keepClient = attempt(ex, b);
                if (keepClient != null) return keepClient;
                if (ex.bodySent) break;
            }
        }
        allFailed.incrementAndGet();
        boolean k = keep && !large; // a large body may be partly unread: the connection cannot carry another request
        respond(out, 502, Map.of("error", "all backends failed", "detail", ex.lastError), k);
        return k;
    }

    /**
     * Tries one backend. Returns whether the client connection stays open once the response was relayed, or null
     * when this backend failed before its first response byte (then the caller fails over).
     */
    private Boolean attempt(Exchange ex, Backend b) throws IOException {
        b.requests.incrementAndGet();
        b.inFlight.incrementAndGet();
        long t0 = System.nanoTime();
        try {
            Http1Connection c = null;
            Head rh;
            try {
                c = b.pool.acquire();
                rh = exchange(ex, b, c);
            } catch (IOException e) {
                boolean stale = c != null && c.reused() && ex.body != null && !(e instanceof SocketTimeoutException);
                if (c != null) c.close();
                c = null;
                rh = null;
                if (stale) { // the backend closed an idle kept-alive connection as we wrote: it never saw the request
                    try {
                        c = b.pool.open();
                        rh = exchange(ex, b, c);
                    } catch (IOException again) {
                        if (c != null) c.close();
                        e = again;
                        c = null;
                    }
                }
                if (c == null) {
                    b.failure(o.breakerFailures(), o.breakerCooldown().toNanos());
                    b.retries.incrementAndGet();
                    ex.lastError = b.label + ": " + e;
                    return null;
                }
            }
            String retryAfter = rh.header("Retry-After");
            if (rh.status() == 503 && retryAfter != null && !ex.bodySent) {
                // mid-update: this backend gets no new requests until a probe sees it serving again
                b.updating = true;
                b.unavailableUntilNs = System.nanoTime() + parseSeconds(retryAfter);
                b.retries.incrementAndGet();
                ex.lastError = b.label + ": 503 Retry-After " + retryAfter;
                c.close();
                return null;
            }
            boolean keepClient = relay(ex, b, c, rh);
            b.success();
            return keepClient;
        } finally {
            b.inFlight.decrementAndGet();
            b.observe(System.nanoTime() - t0);
        }
    }

    /** Sends the request to {@code b} on {@code c} and reads the response head. */
    private static Head exchange(Exchange ex, Backend b, Http1Connection c) throws IOException {
        Head h = ex.head;
        byte[] head = (h.method() + " " + h.target() + " HTTP/1.1\r\nHost: " + b.hostHeader + "\r\n" + ex.forwardHeaders)
                .getBytes(StandardCharsets.ISO_8859_1);
        if (ex.body != null) {
            c.send(head, ex.body, ex.body.length);
        } else {
            ex.bodySent = true;
            c.send(head, null, 0);
            ex.bodyIn.transferTo(c.out());
        }
        return c.readResponse();
    }

    private static String forwardHeaders(Head h, long contentLength) {
        StringBuilder sb = new StringBuilder(256);
        for (int i = 0; i < h.size(); i++) {
            String name = h.name(i);
            if (hopByHop(name)) continue;
            sb.append(name).append(": ").append(h.value(i)).append("\r\n");
        }
        if (contentLength >= 0) sb.append("Content-Length: ").append(contentLength).append("\r\n");
        return sb.append("\r\n").toString();
    }

    /**
     * Copies status, headers and body to the client; after this starts nothing is retried. A body without a known
     * length goes out chunked, one chunk and one flush per read from the backend, so SSE events are not held back.
     * Any failure aborts both connections: the backend sees its connection close and drops the generation.
     */
    private boolean relay(Exchange ex, Backend b, Http1Connection c, Head rh) throws IOException {
        try {
            HttpIn.Body in = c.in().responseBody(rh, ex.head.method());
            boolean http10 = ex.head.http10();
            boolean keep = ex.keep && (in.fixed() || !http10);
            StringBuilder sb = new StringBuilder(512).append("HTTP/1.1 ").append(rh.status()).append(' ')
                    .append(rh.reason().isEmpty() ? reason(rh.status()) : rh.reason()).append("\r\n");
            for (int i = 0; i < rh.size(); i++) {
                String name = rh.name(i);
                if (hopByHop(name)) continue;
                sb.append(name).append(": ").append(rh.value(i)).append("\r\n");
            }
            sb.append("X-OpenAI-LB-Backend: ").append(b.label).append("\r\n");
            if (in.fixed()) sb.append("Content-Length: ").append(in.length()).append("\r\n");
            else if (!http10) sb.append("Transfer-Encoding: chunked\r\n");
            if (!keep) sb.append("Connection: close\r\n");
            else if (http10) sb.append("Connection: keep-alive\r\n");
            OutputStream out = ex.out;
            out.write(sb.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            byte[] buf = ex.buf;
            boolean chunkedOut = !in.fixed() && !http10;
            int n;
            while ((n = in.read(buf, 0, buf.length)) > 0) {
                if (chunkedOut) {
                    out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    out.write(buf, 0, n);
                    out.write(CRLF);
                    out.flush();
                } else {
                    out.write(buf, 0, n);
                    if (!in.fixed()) out.flush();
                }
            }
            if (chunkedOut) out.write(LAST_CHUNK);
            out.flush();
            if (in.complete() && !in.untilClose() && rh.keepAlive()) b.pool.release(c);
            else c.close();
            return keep;
        } catch (IOException e) {
            c.close();
            b.errors.incrementAndGet();
            throw e;
        }
    }

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

    private static long parseSeconds(String s) {
        try {
            return (long) (Double.parseDouble(s.trim()) * 1e9);
        } catch (NumberFormatException e) {
            return 1_000_000_000L;
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // best effort
        }
    }
}
