package dev.rolloutlab.sim;

import static dev.rolloutlab.util.Http.json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.server.AdminError;
import dev.rolloutlab.server.AdminExtension;
import dev.rolloutlab.util.Http;
import io.javalin.config.JavalinConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Weight transfer between simulated hosts ({@code serve --engine sim}), for the sweep's strategies: a push that the
 * receiver passes on down a broadcast tree ({@code X-Forward-To}, split among {@code X-Fanout} children), a pull from a
 * storage host, and the storage host's blob. Peers are reached only inside the simulation's address range
 * 198.18.0.0/15, with this server's own admin token: a request names where to send weights, never anything else.
 */
public final class SimWeights {
    static final int MAX_FORWARD = 256, MAX_FANOUT = 16;

    /** The routes, added to each port of a simulated {@code serve}. */
    public static final AdminExtension ROUTES = (cfg, port) -> new SimWeights(port).addTo(cfg);

    private final AdminExtension.Port port;
    private final long maxBytes;
    private final OkHttpClient http = OpenAiClient.http(32, Duration.ofMinutes(10));

    private SimWeights(AdminExtension.Port port) {
        this.port = port;
        this.maxBytes = port.maxBytes();
    }

    private void addTo(JavalinConfig cfg) {
        cfg.routes.post("/admin/sim_weights", this::push);
        cfg.routes.post("/admin/sim_weights_pull", this::pull);
        cfg.routes.get("/admin/sim_blob", this::blob);
    }

    /**
     * {@code POST /admin/sim_weights}: install, then forward to this host's subtree and answer when all of it has it.
     */
    private void push(Context ctx) {
        byte[] body = Http.body(ctx, maxBytes);
        List<String> rest = peers(ctx.header("X-Forward-To"));
        int fanout = fanout(ctx.header("X-Fanout"));
        Map<String, Object> r = new LinkedHashMap<>(port.installSimulated(body, ctx.header("X-Payload-Sha256")));
        long t0 = System.nanoTime();
        if (!rest.isEmpty()) {
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<OpenAiClient.Exchange>> fs = new ArrayList<>();
                int per = (rest.size() + fanout - 1) / fanout;
                for (int i = 0; i < rest.size(); i += per) {
                    List<String> chunk = rest.subList(i, Math.min(rest.size(), i + per));
                    fs.add(pool.submit(() -> forward(chunk.get(0), body, chunk.subList(1, chunk.size()), fanout)));
                }
                for (var f : fs) {
                    OpenAiClient.Exchange x = f.get();
                    if (!x.ok())
                        throw new AdminError(
                                502,
                                "forwarding failed: " + x.status() + " " + (x.error() != null ? x.error() : x.body()));
                }
            } catch (InterruptedException | ExecutionException e) {
                throw new AdminError(502, "forwarding failed: " + e);
            }
        }
        r.put("forwarded_to", rest.size());
        r.put("subtree_ms", (System.nanoTime() - t0) / 1e6);
        json(ctx, 200, r);
    }

    /**
     * {@code POST /admin/sim_weights_pull {"from": URL}}: fetch a blob from a storage host in the simulation, install
     * it.
     */
    private void pull(Context ctx) {
        JsonNode b = Http.jsonBody(ctx, 4096);
        String from = b.path("from").asText("");
        URI u = peer(from);
        // the blob's bytes as they came (a text body would decode and re-encode them), on a new connection: a pooled
        // one may have idled out on the storage host between two updates
        Request req = new Request.Builder()
                .url(u.toString())
                .header("X-Admin-Token", port.adminToken())
                .header("Connection", "close")
                .build();
        byte[] blob;
        try (Response resp = http.newCall(req).execute()) {
            long len = resp.body().contentLength();
            if (resp.code() != 200 || len > maxBytes) {
                throw new AdminError(
                        502,
                        "pull from " + from + " failed: " + resp.code()
                                + (len > maxBytes ? ", " + len + " bytes is over the limit" : ""));
            }
            blob = resp.body().bytes();
        } catch (IOException e) {
            throw new AdminError(502, "pull from " + from + " failed: " + e.getMessage());
        }
        json(ctx, 200, port.installSimulated(blob, null));
    }

    /** {@code GET /admin/sim_blob?bytes=N}: N bytes to pull, as a storage host serves a checkpoint. */
    private void blob(Context ctx) {
        long n;
        try {
            n = Long.parseLong(ctx.queryParam("bytes"));
        } catch (NumberFormatException e) {
            throw new AdminError(400, "bytes must be an integer");
        }
        if (n < 0 || n > Math.min(maxBytes, Integer.MAX_VALUE - 64))
            throw new AdminError(400, "bytes must be in [0, " + maxBytes + "]");
        // a blob of zeros would be gzipped to nothing on the way: the bytes must cross the link
        ctx.disableCompression()
                .status(200)
                .contentType("application/octet-stream")
                .result(new byte[(int) n]);
    }

    private OpenAiClient.Exchange forward(String to, byte[] body, List<String> subtree, int fanout) {
        Map<String, String> h = new LinkedHashMap<>(token());
        if (!subtree.isEmpty()) {
            h.put("X-Forward-To", String.join(",", subtree));
            h.put("X-Fanout", String.valueOf(fanout));
        }
        return new OpenAiClient(http, to, null, false)
                .postBytes("/admin/sim_weights", body, "application/octet-stream", h);
    }

    private Map<String, String> token() {
        return Map.of("X-Admin-Token", port.adminToken());
    }

    private static int fanout(String s) {
        if (s == null) return 2;
        try {
            int k = Integer.parseInt(s.trim());
            if (k >= 1 && k <= MAX_FANOUT) return k;
        } catch (NumberFormatException ignored) {
            // refused below
        }
        throw new AdminError(400, "X-Fanout must be an integer in [1, " + MAX_FANOUT + "]");
    }

    private static List<String> peers(String header) {
        if (header == null || header.isBlank()) return List.of();
        String[] parts = header.split(",");
        if (parts.length > MAX_FORWARD)
            throw new AdminError(400, "X-Forward-To names more than " + MAX_FORWARD + " peers");
        List<String> out = new ArrayList<>();
        for (String p : parts) {
            URI u = peer(p.trim());
            out.add(u.getScheme() + "://" + u.getAuthority());
        }
        return out;
    }

    /** A URL of a simulated host: http, an address in 198.18.0.0/15 (not a name, so nothing resolves elsewhere). */
    private static URI peer(String s) {
        try {
            URI u = URI.create(s);
            if (!"http".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 1)
                throw new IllegalArgumentException();
            if (!u.getHost().matches("\\d+\\.\\d+\\.\\d+\\.\\d+")) throw new IllegalArgumentException();
            byte[] a = InetAddress.getByName(u.getHost()).getAddress();
            if ((a[0] & 0xff) != 198 || ((a[1] & 0xff) != 18 && (a[1] & 0xff) != 19))
                throw new IllegalArgumentException();
            return u;
        } catch (IllegalArgumentException | UnknownHostException e) {
            throw new AdminError(
                    400, "peer " + s + " is not http://A.B.C.D:PORT inside the simulation's range 198.18.0.0/15");
        }
    }
}
