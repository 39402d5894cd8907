package dev.rolloutlab.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.http1.Head;
import dev.rolloutlab.http1.Http1Connection;
import dev.rolloutlab.http1.Http1Pool;
import dev.rolloutlab.http1.HttpIn;
import dev.rolloutlab.util.HostPort;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.TraceParent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * An OpenAI client for measurement: one call sends one request and returns what happened and when (send, first token,
 * end, chunk times) as a {@link Result}, never throwing for HTTP or transport failures. Keep-alive is a per-client
 * choice: pooled connections, or {@code Connection: close} and a fresh connection per request.
 */
public final class OpenAiClient {
    public static final MediaType JSON = MediaType.get("application/json");

    private final OkHttpClient http;
    /**
     * {@code http} for GETs, which are idempotent: one sent on a pooled connection the server closed while it idled
     * (serve after 60 s, the balancer after 120 s; a long experiment's rounds leave one idle longer) goes again on a
     * new connection. OkHttp checks a pooled connection's liveness before a POST but not before a GET.
     */
    private final OkHttpClient gets;

    private final String baseUrl;
    private final String apiKey;
    private final boolean keepAlive;
    /** Completions, the measured path, go over a lean HTTP/1.1 pool; OkHttp costs ~100 µs of CPU per call here. */
    private final Http1Pool pool;

    private final String pathPrefix;
    private final String headTail;

    /**
     * A client of one server. {@code http} carries control-plane calls and gives the timeouts of the completion path,
     * which has its own connections to this server.
     */
    public OpenAiClient(OkHttpClient http, String baseUrl, String apiKey, boolean keepAlive) {
        this.http = http;
        this.gets = http.newBuilder().retryOnConnectionFailure(true).build();
        this.baseUrl = HostPort.url(baseUrl);
        this.apiKey = apiKey == null || apiKey.isEmpty() ? null : apiKey;
        this.keepAlive = keepAlive;
        HttpUrl u = HttpUrl.parse(this.baseUrl);
        if (u == null) throw new IllegalArgumentException("not an http(s) URL: " + baseUrl);
        this.pool = new Http1Pool(
                u.host(),
                u.port(),
                u.isHttps(),
                Duration.ofMillis(http.connectTimeoutMillis()),
                Duration.ofMillis(http.readTimeoutMillis() == 0 ? Integer.MAX_VALUE : http.readTimeoutMillis()),
                MAX_IDLE);
        String path = u.encodedPath();
        this.pathPrefix = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        boolean defaultPort = u.port() == HttpUrl.defaultPort(u.scheme());
        this.headTail = " HTTP/1.1\r\nHost: " + u.host() + (defaultPort ? "" : ":" + u.port())
                + "\r\nUser-Agent: rollout-lab\r\n"
                + "Accept: */*\r\nContent-Type: application/json\r\n"
                + (this.apiKey != null ? "Authorization: Bearer " + this.apiKey + "\r\n" : "")
                + (keepAlive ? "" : "Connection: close\r\n") + "Content-Length: ";
    }

    /** Idle time after which a pooled connection is not reused (below uvicorn's 5 s keep-alive timeout). */
    private static final Duration MAX_IDLE = Duration.ofSeconds(4);

    /**
     * An OkHttp client for control-plane calls: a pool of {@code poolSize} idle connections; a POST is never sent
     * twice.
     */
    public static OkHttpClient http(int poolSize, Duration timeout) {
        return http(poolSize, timeout, Duration.ofMinutes(5));
    }

    /**
     * {@code keepIdle} below the server's idle timeout (serve: 60 s) for callers that POST after idling: a POST on a
     * connection the server closed fails rather than being sent twice.
     */
    public static OkHttpClient http(int poolSize, Duration timeout, Duration keepIdle) {
        var dispatcher = new Dispatcher();
        dispatcher.setMaxRequests(Math.max(64, poolSize * 2));
        dispatcher.setMaxRequestsPerHost(Math.max(64, poolSize * 2));
        return new OkHttpClient.Builder()
                .connectionPool(new ConnectionPool(Math.max(1, poolSize), keepIdle.toMillis(), TimeUnit.MILLISECONDS))
                .dispatcher(dispatcher)
                .retryOnConnectionFailure(false)
                .socketFactory(NoDelaySockets.INSTANCE)
                .connectTimeout(Duration.ofSeconds(10))
                .readTimeout(timeout)
                .callTimeout(timeout.plusSeconds(10))
                .build();
    }

    public String baseUrl() {
        return baseUrl;
    }

    private Request.Builder request(String path) {
        Request.Builder b = new Request.Builder().url(baseUrl + path);
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        if (!keepAlive) b.header("Connection", "close");
        return b;
    }

    /** A plain HTTP exchange: status, body and headers of interest, or status -1 and the transport error. */
    public record Exchange(int status, String body, Map<String, String> headers, String error) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }

        public JsonNode json() {
            try {
                return Json.parse(body);
            } catch (IOException e) {
                throw new IllegalStateException("not JSON: " + body.substring(0, Math.min(200, body.length())));
            }
        }
    }

    public Exchange get(String path) {
        return exchange(gets, request(path).get().build());
    }

    public Exchange getWith(String path, Map<String, String> headers) {
        Request.Builder b = request(path).get();
        headers.forEach(b::header);
        return exchange(gets, b.build());
    }

    public Exchange post(String path, Object jsonBody, Map<String, String> headers) {
        Request.Builder b = request(path).post(RequestBody.create(Json.bytes(jsonBody), JSON));
        headers.forEach(b::header);
        return exchange(http, b.build());
    }

    public Exchange postBytes(String path, byte[] body, String contentType, Map<String, String> headers) {
        Request.Builder b = request(path).post(RequestBody.create(body, MediaType.get(contentType)));
        headers.forEach(b::header);
        return exchange(http, b.build());
    }

    private static Exchange exchange(OkHttpClient via, Request r) {
        try (Response resp = via.newCall(r).execute()) {
            ResponseBody body = resp.body();
            Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            for (String name : resp.headers().names()) h.put(name, resp.header(name));
            return new Exchange(resp.code(), body.string(), h, null);
        } catch (IOException e) {
            return new Exchange(-1, "", Map.of(), TransportError.describe(e));
        }
    }

    /**
     * What one completion request did. Times are {@link System#nanoTime()}; {@code chunkNs} holds the arrival of each
     * streamed content chunk (one per token on our server), so inter-token latency is their differences.
     */
    public record Result(
            int status,
            String backend,
            long weightsVersion,
            long sentNs,
            long firstTokenNs,
            long endNs,
            int promptTokens,
            int completionTokens,
            long[] chunkNs,
            String text,
            int[] tokenIds,
            String error,
            long connectNs,
            ServerTimings serverTimings) {
        public Result(
                int status,
                String backend,
                long weightsVersion,
                long sentNs,
                long firstTokenNs,
                long endNs,
                int promptTokens,
                int completionTokens,
                long[] chunkNs,
                String text,
                int[] tokenIds,
                String error,
                long connectNs) {
            this(
                    status,
                    backend,
                    weightsVersion,
                    sentNs,
                    firstTokenNs,
                    endNs,
                    promptTokens,
                    completionTokens,
                    chunkNs,
                    text,
                    tokenIds,
                    error,
                    connectNs,
                    ServerTimings.NONE);
        }

        public Result withServerTimings(ServerTimings t) {
            return new Result(
                    status,
                    backend,
                    weightsVersion,
                    sentNs,
                    firstTokenNs,
                    endNs,
                    promptTokens,
                    completionTokens,
                    chunkNs,
                    text,
                    tokenIds,
                    error,
                    connectNs,
                    t);
        }

        /** An answer with no completion in it: an error status, or a body that is not one ({@code error} says). */
        public static Result unusable(
                int status,
                String backend,
                long weightsVersion,
                long sentNs,
                long endNs,
                String error,
                long connectNs) {
            return new Result(
                    status,
                    backend,
                    weightsVersion,
                    sentNs,
                    -1,
                    endNs,
                    0,
                    0,
                    new long[0],
                    null,
                    null,
                    error,
                    connectNs);
        }

        /** A failure before any response, e.g. a refused connection. */
        public static Result failed(long sentNs, String error) {
            return unusable(-1, "", -1, sentNs, System.nanoTime(), error, 0);
        }

        public Result withConnectNs(long ns) {
            return new Result(
                    status,
                    backend,
                    weightsVersion,
                    sentNs,
                    firstTokenNs,
                    endNs,
                    promptTokens,
                    completionTokens,
                    chunkNs,
                    text,
                    tokenIds,
                    error,
                    ns,
                    serverTimings);
        }

        public boolean ok() {
            return status == 200 && error == null;
        }
    }

    /**
     * Sends a completion request (streaming or not, as the request says) and measures it. A kept-alive connection the
     * server has closed counts as a failed request, as it would for any client that does not retry.
     */
    public Result complete(CompletionRequest req) {
        return complete(req, null);
    }

    /** The same, sent as part of {@code trace} (its {@code traceparent} header; null: none). */
    public Result complete(CompletionRequest req, TraceParent trace) {
        CompletionRequest r = req.stream() && !req.includeUsage() ? req.withStream(true, true) : req;
        byte[] body = Json.bytes(r.toJson());
        String extra = (r.sessionId() == null ? "" : "\r\nX-Session-Id: " + r.sessionId())
                + (trace == null ? "" : "\r\n" + TraceParent.HEADER + ": " + trace.header());
        String tail = extra.isEmpty() ? headTail : " HTTP/1.1" + extra + headTail.substring(" HTTP/1.1".length());
        byte[] head = ("POST " + pathPrefix + r.endpoint().path + tail + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1);
        long sent = System.nanoTime();
        Http1Connection c = null;
        long connect = 0;
        try {
            c = keepAlive ? pool.acquire() : pool.open();
            if (!c.reused()) connect = c.connectNs();
            c.send(head, body, body.length);
            Head h = c.readResponse();
            HttpIn.Body in = c.in().responseBody(h, "POST");
            String backend = h.header("X-OpenAI-LB-Backend");
            if (backend == null) backend = h.header("X-Backend-Id");
            if (backend == null) backend = "";
            long version = parseLong(h.header("X-Weights-Version"));
            Result res;
            if (h.status() != 200) {
                String text;
                try {
                    text = new String(in.readAll(1 << 20), StandardCharsets.UTF_8);
                } catch (IOException e) { // the status arrived; keep it with what cut the body
                    text = "(body cut: " + TransportError.describe(e) + ")";
                    in = null;
                }
                res = Result.unusable(
                        h.status(),
                        backend,
                        version,
                        sent,
                        System.nanoTime(),
                        "HTTP " + h.status() + ": " + text.substring(0, Math.min(300, text.length())),
                        connect);
            } else {
                // a server that ignores stream:true answers with one JSON body: measure that, with no TTFT to fake
                String type = h.header("Content-Type");
                boolean sse = type != null && type.toLowerCase(Locale.ROOT).contains("event-stream");
                res = r.stream() && sse
                        ? CompletionReader.stream(in, backend, version, sent, r, connect)
                        : CompletionReader.whole(in, backend, version, sent, r, connect);
                // serve's timings come in its header (or, for a stream, in its last chunk); the balancer adds its own
                // header
                res = res.withServerTimings(res.serverTimings().or(ServerTimings.parse(h.headers("Server-Timing"))));
            }
            if (keepAlive && in != null && in.complete() && h.keepAlive()) pool.release(c);
            else c.close();
            return res;
        } catch (IOException | RuntimeException e) {
            if (c != null) c.close();
            return Result.failed(sent, TransportError.describe(e)).withConnectNs(connect);
        }
    }

    private static long parseLong(String s) {
        if (s == null) return -1;
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
