package dev.rolloutlab.lb;

import dev.rolloutlab.http1.BodyTooLarge;
import dev.rolloutlab.http1.Head;
import dev.rolloutlab.http1.HttpIn;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.SpanLog;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An OpenAI load balancer in the shape of SGLang's model gateway: a {@link BackendSource}, a {@link Policy}, a
 * {@link HealthChecker} that owns each backend's up/down state, the {@link Relay}, the {@link AdminApi} and
 * {@link LbMetrics}. This class owns only the listening socket and the client connections: one platform thread per
 * connection, at most {@code maxConnections} of them; beyond that a client gets a quick 503.
 */
public final class LoadBalancer implements AutoCloseable {
    /** A client connection idle this long between requests is closed. */
    private static final int CLIENT_IDLE_MS = 120_000;
    /**
     * Connections accepted past {@code maxConnections} for the balancer's own routes only (health, metrics, admin),
     * each with one header timeout to ask: an operator can still see and drain a balancer whose slots a flood holds.
     */
    static final int RESERVED_CONNECTIONS = 32;
    /** Our own routes' request bodies (drain) are tiny. */
    private static final int ADMIN_BODY_LIMIT = 64 << 10;

    private static final byte[] BUSY = busy();

    private static byte[] busy() {
        byte[] body = Json.bytes(
                Responses.error("too many client connections; retry shortly", "service_unavailable", "busy", Map.of()));
        String head = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: "
                + "1\r\nConnection: close\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n";
        byte[] all = Arrays.copyOf(head.getBytes(StandardCharsets.ISO_8859_1), head.length() + body.length);
        System.arraycopy(body, 0, all, head.length(), body.length);
        return all;
    }

    private final LbOptions o;
    private final BackendSource source;
    private final HealthChecker health;
    private final LbMetrics metrics;
    private final Relay relay;
    private final AdminApi admin;
    private final ServerSocket server;
    private final Set<Socket> clients = ConcurrentHashMap.newKeySet();
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, AtomicInteger> perClient = new ConcurrentHashMap<>();
    private final AcceptBackoff backoff = new AcceptBackoff();
    private volatile boolean closed;
    private final SpanLog spans;

    public LoadBalancer(LbOptions options) {
        this.o = options;
        this.source = new BackendSource(options);
        this.metrics = new LbMetrics(new Versions(options.versionConsistent()));
        this.spans = options.trace() == null ? SpanLog.OFF : SpanLog.open(options.trace(), "lb");
        this.relay = new Relay(options, source, metrics, spans);
        this.admin = new AdminApi(options, source, metrics);
        try {
            server = new ServerSocket();
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getByName(options.listenHost()), options.listenPort()), 1024);
        } catch (IOException e) {
            source.close();
            spans.close();
            throw new IllegalStateException(
                    "lb cannot listen on " + options.listenHost() + ":" + options.listenPort() + ": " + e.getMessage()
                            + (e instanceof BindException
                                    ? " (is the port in use? pick another --listen-port, or 0 for a free one)"
                                    : ""),
                    e);
        }
        this.health = new HealthChecker(options, source);
        Thread.ofPlatform().name("lb-accept").daemon(true).start(this::acceptLoop);
    }

    public int port() {
        return server.getLocalPort();
    }

    public String url() {
        String h = o.listenHost().equals("0.0.0.0") ? "127.0.0.1" : o.listenHost();
        return "http://" + h + ":" + port();
    }

    public List<Backend> backends() {
        return source.current();
    }

    /**
     * Attempts on backends, and how many of them failed over or were retried; equal attempts and requests mean none
     * did.
     */
    public record Counters(long attempts, long retries, long errors, String firstByteTimeout, String lastError) {}

    /** Totals over the current backends, for a report to say where the balancer's time went. */
    public Counters counters() {
        long a = 0, r = 0, e = 0;
        String last = null;
        for (Backend b : backends()) {
            a += b.stats.requests.get();
            r += b.stats.retries.get();
            e += b.stats.errors.get();
            if (b.stats.lastError != null) last = b.stats.lastError;
        }
        return new Counters(a, r, e, relay.firstByte.describe(), last);
    }

    Relay relay() {
        return relay;
    }

    /** Client connections open now. */
    public int openConnections() {
        return open.get();
    }

    @Override
    public void close() {
        closed = true;
        health.close();
        try {
            server.close();
        } catch (IOException ignored) {
            // already closed
        }
        for (Socket s : clients) closeQuietly(s);
        source.close();
        spans.close();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
                backoff.reset();
            } catch (IOException e) {
                if (closed) return;
                // EMFILE and friends: accepting again at once would spin; wait, and say so once per interval
                backoff.failed(e);
                continue;
            }
            int now = open.incrementAndGet();
            boolean reserved = now > o.maxConnections();
            if (now > o.maxConnections() + RESERVED_CONNECTIONS || !admitFrom(s.getInetAddress())) {
                open.decrementAndGet();
                metrics.refusedConnections.incrementAndGet();
                refuse(s);
                continue;
            }
            clients.add(s);
            // A platform thread per connection, not a virtual one: a blocked read then wakes its own thread, while a
            // virtual thread is woken through the JDK's poller and a carrier, a hand-off that measured +100 µs p50
            // per proxied request on two busy cores (docs/benchmarks.md). Small stacks keep thousands affordable.
            try {
                Thread.ofPlatform()
                        .name("lb-conn")
                        .daemon(true)
                        .stackSize(256 * 1024)
                        .start(() -> serve(s, reserved));
            } catch (OutOfMemoryError e) { // no native thread left: shed this connection, keep serving the others
                clients.remove(s);
                open.decrementAndGet();
                leftFrom(s.getInetAddress());
                refuse(s);
            }
        }
    }

    /** Counts a connection from {@code a}; false (nothing counted) when that address already holds its share. */
    private boolean admitFrom(InetAddress a) {
        AtomicInteger n = perClient.computeIfAbsent(a, k -> new AtomicInteger());
        if (n.incrementAndGet() <= o.clients().maxConnectionsPerClient()) return true;
        leftFrom(a);
        return false;
    }

    private void leftFrom(InetAddress a) {
        perClient.computeIfPresent(a, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
    }

    private static void refuse(Socket s) {
        try (s) {
            s.setSoTimeout(1000);
            s.getOutputStream().write(BUSY);
        } catch (IOException ignored) {
            // the client went away first
        }
    }

    /**
     * Serves one client connection: requests one after another until either side closes it. A connection on a
     * {@code reserved} slot gets one request, for the balancer's own routes only.
     */
    private void serve(Socket s, boolean reserved) {
        try (s) {
            s.setTcpNoDelay(true);
            ClientPace pace = new ClientPace(s, o.clients());
            HttpIn in = new HttpIn(s.getInputStream(), pace);
            OutputStream out = new BufferedOutputStream(s.getOutputStream(), 16 * 1024);
            byte[] relayBuf = new byte[16 * 1024]; // one per connection: requests on it run one at a time
            ClientWatch watch = new ClientWatch(s, in);
            // a new connection has one header timeout to start its first request; a kept-alive one may idle longer
            int idle = (int) o.clients().headerTimeout().toMillis();
            while (!closed) {
                try {
                    pace.awaitHead(idle);
                    Head h = in.readHead(true);
                    if (h == null) return;
                    pace.bodyStarts();
                    if (!handle(h, in, out, relayBuf, watch, reserved) || reserved) return;
                    idle = CLIENT_IDLE_MS;
                } catch (BodyTooLarge e) {
                    Responses.error(out, 413, "request body too large: " + e.getMessage(), "request_too_large", false);
                    return;
                } catch (ProtocolException e) {
                    // a malformed request line, header or framing: answer it, then close (the stream is out of step)
                    Responses.error(out, 400, "bad request: " + e.getMessage(), "bad_request", false);
                    return;
                }
            }
        } catch (IOException e) {
            // the client went away, timed out, or a relay was aborted: the connection is closed either way
        } finally {
            clients.remove(s);
            open.decrementAndGet();
            leftFrom(s.getInetAddress());
        }
    }

    /** Handles one request; returns whether the client connection stays open. */
    private boolean handle(Head h, HttpIn in, OutputStream out, byte[] relayBuf, ClientWatch watch, boolean reserved)
            throws IOException {
        boolean keep = h.keepAlive();
        String target = h.target();
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        HttpIn.Body body = in.requestBody(h);
        if (reserved && !AdminApi.owns(h.method(), path)) {
            metrics.refusedConnections.incrementAndGet();
            Responses.error(out, 503, "too many client connections; retry shortly", "busy", false);
            return false;
        }
        if ("100-continue".equalsIgnoreCase(h.header("Expect")) && !body.complete()) {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
        if (AdminApi.owns(h.method(), path)) {
            byte[] b;
            try {
                b = body.readAll(ADMIN_BODY_LIMIT);
            } catch (BodyTooLarge e) {
                Responses.error(out, 413, "request body too large for " + path, "request_too_large", false);
                return false;
            }
            admin.handle(h, path, b, out, keep);
            return keep;
        }
        return relay.proxy(h, body, out, keep, relayBuf, watch);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // best effort
        }
    }
}
