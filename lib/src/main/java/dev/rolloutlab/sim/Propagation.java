package dev.rolloutlab.sim;

import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.results.Strategy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import okhttp3.OkHttpClient;

/**
 * How one weight update reaches simulated hosts, and what bytes over rates predict for it: the trainer pushes to all at
 * once, host by host ({@code rolling}), down a binary broadcast tree (each host forwards to its children over its own
 * uplink), or every host pulls from a storage host with its own uplink. Payloads are scaled like the link rates of the
 * weights' class (see {@link NetnsFleet}), so the times are the real ones.
 */
public final class Propagation {
    /** The ways weights reach simulated hosts over HTTP. */
    public static final List<Strategy> STRATEGIES =
            Strategy.fleet().stream().filter(s -> !s.inProcess()).toList();

    static final int TREE_FANOUT = 2;

    private final SimHosts sim;
    private final OkHttpClient http;
    private final Map<String, String> admin;
    private final int storageHost;
    private final LinkProfile link;
    private final double bytesScale;

    /** {@code storageHost}: the 1-based host that serves blobs for {@code storage}; it takes no requests. */
    public Propagation(
            SimHosts sim, OkHttpClient http, String adminToken, int storageHost, LinkProfile link, double bytesScale) {
        this.sim = sim;
        this.http = http;
        this.admin = Map.of("X-Admin-Token", adminToken);
        this.storageHost = storageHost;
        this.link = link;
        this.bytesScale = bytesScale;
    }

    /**
     * Moves the first {@code hosts} hosts to their next version with {@code bytes} (already scaled); the wall time
     * until the last one serves it.
     */
    public double push(Strategy strategy, int hosts, int bytes) {
        byte[] payload = new byte[bytes];
        List<String> urls = sim.hostUrls(hosts);
        long t0 = System.nanoTime();
        switch (strategy) {
            case PUSH_ROLLING -> urls.forEach(u -> send(u, payload, admin));
            case PUSH_ALL -> each(urls, u -> send(u, payload, admin));
            case PUSH_TREE -> {
                List<String> rest = new ArrayList<>();
                for (int i = 2; i <= hosts; i++) rest.add(sim.hostUrl(i)); // host to host, over the bridge
                Map<String, String> h = new LinkedHashMap<>(admin);
                if (!rest.isEmpty()) {
                    h.put("X-Forward-To", String.join(",", rest));
                    h.put("X-Fanout", String.valueOf(TREE_FANOUT));
                }
                send(urls.get(0), payload, h);
            }
            case STORAGE_PULL -> {
                String blob = sim.hostUrl(storageHost) + "/admin/sim_blob?bytes=" + bytes;
                each(
                        urls,
                        u -> check(
                                new OpenAiClient(http, u, null, false)
                                        .post("/admin/sim_weights_pull", Map.of("from", blob), admin),
                                u));
            }
            default ->
                throw new IllegalArgumentException(
                        strategy + " does not run on a simulated fleet (expected one of " + STRATEGIES + ")");
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    /**
     * Bytes over rates, every NIC at the link's rate: the trainer's (or the storage host's) uplink carries one copy per
     * host for push-all, rolling and storage; down the tree each host's uplink carries one copy per child.
     */
    public double predictedMs(Strategy strategy, int hosts, long bytes) {
        return predictedMs(link, bytesScale, strategy, hosts, bytes);
    }

    static double predictedMs(LinkProfile link, double bytesScale, Strategy strategy, int hosts, long bytes) {
        if (link.rateMbit() <= 0) return Double.NaN;
        double copy = bytes * 8.0 / (link.rateMbit() / bytesScale * 1e6) * 1000;
        return switch (strategy) {
            case PUSH_TREE -> copy + subtreeMs(hosts - 1, copy) + link.rttMs();
            default -> hosts * copy + link.rttMs();
        };
    }

    /**
     * A host passing {@code n} more hosts down a tree: one copy per child over its own uplink, then the deepest child's
     * subtree.
     */
    private static double subtreeMs(int n, double copy) {
        if (n <= 0) return 0;
        int per = (n + TREE_FANOUT - 1) / TREE_FANOUT, children = (n + per - 1) / per;
        return children * copy + subtreeMs(per - 1, copy);
    }

    /**
     * On a new connection, as the hosts forward and pull: a kept-alive one carries the congestion state and timers of
     * the last transfer (a push to 64 hosts at once leaves them inflated), and rolling pushes then ran 2.4x bytes/rate.
     */
    private void send(String url, byte[] payload, Map<String, String> headers) {
        check(
                new OpenAiClient(http, url, null, false)
                        .postBytes("/admin/sim_weights", payload, "application/octet-stream", headers),
                url);
    }

    private static void check(OpenAiClient.Exchange x, String u) {
        if (!x.ok())
            throw new IllegalStateException("weight transfer to " + u + " failed: " + x.status() + " "
                    + (x.error() != null ? x.error() : x.body()));
    }

    /** One virtual thread per host: a pool the size of the cores would push in waves. */
    private static void each(List<String> urls, Consumer<String> call) {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> fs = new ArrayList<>();
            for (String u : urls) fs.add(pool.submit(() -> call.accept(u)));
            for (var f : fs) {
                try {
                    f.get();
                } catch (Exception e) {
                    throw new IllegalStateException(
                            e.getCause() != null ? e.getCause().getMessage() : e.toString(), e);
                }
            }
        }
    }
}
