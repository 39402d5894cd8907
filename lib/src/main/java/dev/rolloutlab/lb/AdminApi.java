package dev.rolloutlab.lb;

import dev.rolloutlab.http1.Fetch;
import dev.rolloutlab.http1.Head;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.Secrets;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The balancer's own routes. {@code /health} is open, as in {@code openai_load_balancer}. {@code /admin/*} needs the
 * admin token, or the API key when only that is set; with neither, the balancer is open and so are they (the local case
 * {@code openai_load_balancer} serves). {@code /metrics} needs the same unless {@code --public-metrics}. Drain needs
 * the admin token itself. {@code POST /abort_request} (SGLang's shape) needs what a completion needs, and goes to every
 * backend, since the one holding the request is whichever the relay picked; each frees the request's slot if it has it.
 */
final class AdminApi {
    private final LbOptions o;
    private final BackendSource source;
    private final LbMetrics metrics;

    AdminApi(LbOptions o, BackendSource source, LbMetrics metrics) {
        this.o = o;
        this.source = source;
        this.metrics = metrics;
    }

    /** Whether this request is for one of our routes rather than a backend. */
    static boolean owns(String method, String path) {
        return method.equals("GET")
                        && (path.equals("/health") || path.equals("/admin/backends") || path.equals("/metrics"))
                || method.equals("POST")
                        && (path.equals("/admin/drain")
                                || path.equals("/admin/undrain")
                                || path.equals("/abort_request"));
    }

    void handle(Head h, String path, byte[] body, OutputStream out, boolean keep) throws IOException {
        switch (path) {
            case "/health" -> Responses.bytes(out, health(), null, new byte[0], keep);
            case "/abort_request" -> {
                if (o.apiKey() != null && !Secrets.equal("Bearer " + o.apiKey(), h.header("Authorization")))
                    denied(out, keep);
                else Responses.json(out, 200, abort(h, body), keep);
            }
            case "/admin/backends" -> {
                if (authorized(h, false)) Responses.json(out, 200, backends(), keep);
                else denied(out, keep);
            }
            case "/metrics" -> {
                if (o.publicMetrics() || authorized(h, false))
                    Responses.bytes(
                            out, 200, LbMetrics.CONTENT_TYPE, metrics.render(source.current(), o.policy()), keep);
                else denied(out, keep);
            }
            default -> drain(h, body, path.equals("/admin/drain"), out, keep);
        }
    }

    /** With {@code adminOnly}, only the admin token; otherwise the admin token or, when set, the API key. */
    private boolean authorized(Head h, boolean adminOnly) {
        String auth = h.header("Authorization"), admin = h.header("X-Admin-Token");
        if (o.adminToken() != null
                && (Secrets.equal(o.adminToken(), admin) || Secrets.equal("Bearer " + o.adminToken(), auth)))
            return true;
        if (adminOnly) return false;
        if (o.apiKey() != null) return Secrets.equal("Bearer " + o.apiKey(), auth);
        return o.adminToken() == null;
    }

    private void denied(OutputStream out, boolean keep) throws IOException {
        Responses.error(
                out,
                401,
                "this route needs the admin token (X-Admin-Token or Authorization: Bearer)"
                        + (o.apiKey() != null ? " or the API key" : ""),
                "unauthorized",
                keep);
    }

    /** Forwards the abort to every backend at once and adds up what they aborted. */
    private Map<String, Object> abort(Head h, byte[] body) {
        List<Backend> all = source.current();
        String clientAuth =
                h.header("Authorization") == null ? null : "Authorization: " + h.header("Authorization") + "\r\n";
        int aborted = 0, answered = 0;
        List<String> failed = new ArrayList<>();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Fetch.Response>> fs = new ArrayList<>();
            for (Backend b : all) {
                String auth = b.authorizationLine != null ? b.authorizationLine : clientAuth;
                fs.add(pool.submit(
                        () -> Fetch.postJson(b.url + "/abort_request", auth, body, Duration.ofSeconds(5), 64 << 10)));
            }
            for (int i = 0; i < fs.size(); i++) {
                try {
                    var r = fs.get(i).get();
                    if (r.status() != 200) throw new IOException("status " + r.status());
                    aborted += Json.parse(r.text()).path("aborted").asInt(0);
                    answered++;
                } catch (Exception e) {
                    failed.add(all.get(i).label + " ("
                            + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()) + ")");
                }
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", failed.isEmpty());
        m.put("aborted", aborted);
        m.put("backends", answered);
        if (!failed.isEmpty()) m.put("failed", failed);
        return m;
    }

    private int health() {
        o.policy().skipTurn(); // openai_load_balancer's /health takes a round-robin turn too
        long now = System.nanoTime();
        for (Backend b : source.current()) if (b.health.up && now >= b.health.breakerOpenUntilNs) return 200;
        return 503;
    }

    private Map<String, Object> backends() {
        long now = System.nanoTime();
        List<String> labels = new ArrayList<>();
        List<Map<String, Object>> state = new ArrayList<>();
        for (Backend b : source.current()) {
            labels.add(b.label);
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("backend", b.label);
            s.put("url", b.url);
            s.put("healthy", b.health.up);
            s.put("in_flight", b.inFlight.get());
            s.put("reported_load", b.health.reportedLoad);
            s.put("breaker", b.health.breakerState(now));
            s.put("draining", b.draining);
            s.put("weights_version", b.version);
            s.put("updating", b.health.updating);
            s.put("requests", b.stats.requests.get());
            s.put("errors", b.stats.errors.get());
            state.add(s);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("ok", true);
        r.put("backends", labels);
        r.put("policy", o.policy().name());
        r.put("state", state);
        return r;
    }

    private void drain(Head h, byte[] body, boolean on, OutputStream out, boolean keep) throws IOException {
        if (o.adminToken() == null) {
            Responses.error(
                    out, 403, "drain is disabled: start the lb with --admin-token-file", "admin_disabled", keep);
            return;
        }
        if (!authorized(h, true)) {
            Responses.error(
                    out,
                    401,
                    "drain needs the admin token (X-Admin-Token or Authorization: Bearer)",
                    "unauthorized",
                    keep);
            return;
        }
        String which;
        try {
            String text = new String(body, StandardCharsets.UTF_8);
            which = Json.parse(text.isBlank() ? "{}" : text).path("backend").asText("");
        } catch (IOException e) {
            Responses.error(out, 400, "Invalid JSON: expected {\"backend\": \"host:port\"}", "invalid_json", keep);
            return;
        }
        for (Backend b : source.current()) {
            if (b.label.equals(which) || b.url.equals(which)) {
                b.draining = on;
                Responses.json(
                        out,
                        200,
                        Map.of("ok", true, "backend", b.label, "draining", on, "in_flight", b.inFlight.get()),
                        keep);
                return;
            }
        }
        Responses.error(out, 404, "unknown backend: " + which, "unknown_backend", keep);
    }
}
