package dev.rolloutlab.lb;

import dev.rolloutlab.cluster.Registry;
import dev.rolloutlab.http1.Http1Pool;
import dev.rolloutlab.util.HostPort;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Where the backends come from: a fixed list, or a registry read every two seconds. A bad registry entry is skipped
 * with its reason logged and never empties the set; an unreachable registry keeps the last good set.
 */
final class BackendSource implements AutoCloseable {
    private static final Duration POOL_MAX_IDLE = Duration.ofSeconds(4);

    private final LbOptions o;
    private volatile List<Backend> backends;
    /** The last message logged for each problem, so a persisting problem is logged once, not every refresh. */
    private final Map<String, String> logged = new HashMap<>();

    BackendSource(LbOptions o) {
        this.o = o;
        List<Backend> initial = new ArrayList<>();
        if (o.registryUrl() == null) {
            for (String b : o.backends()) initial.add(newBackend(HostPort.check(b), null));
        }
        this.backends = List.copyOf(initial);
        if (o.registryUrl() != null) refresh();
    }

    List<Backend> current() {
        return backends;
    }

    boolean followsRegistry() {
        return o.registryUrl() != null;
    }

    private Backend newBackend(String spec, String apiKey) {
        String url = spec.startsWith("http://") || spec.startsWith("https://") ? spec : "http://" + spec;
        if (url.endsWith("/")) url = url.substring(0, url.length() - 1);
        URI u = URI.create(url);
        boolean tls = "https".equals(u.getScheme());
        int port = u.getPort() > 0 ? u.getPort() : tls ? 443 : 80;
        String hostPort = u.getHost() + ":" + port;
        Http1Pool pool = new Http1Pool(u.getHost(), port, tls, o.healthTimeout(), o.backendTimeout(), POOL_MAX_IDLE);
        return new Backend(url, hostPort, hostPort, pool, apiKey);
    }

    /** Re-reads the registry; kept backends keep their pools and state, removed ones finish what they carry. */
    void refresh() {
        Registry.BackendList list;
        try {
            list = Registry.fetchBackends(o.registryUrl(), o.registryToken(), Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            logOnce("registry", "lb: " + e.getMessage() + "; keeping " + backends.size() + " backend(s)");
            return;
        }
        logOnce("registry", null);
        Map<String, Backend> old = new LinkedHashMap<>();
        for (Backend b : backends) old.put(b.label, b);
        List<Backend> next = new ArrayList<>();
        for (String s : list.backends()) {
            try {
                HostPort.check(s);
                Backend fresh = newBackend(s, list.apiKeys().get(s));
                Backend kept = old.get(fresh.label);
                if (kept != null && Objects.equals(kept.authorizationLine, fresh.authorizationLine)) {
                    fresh.pool.close();
                    next.add(kept);
                } else next.add(fresh);
                logOnce("entry " + s, null);
            } catch (IllegalArgumentException e) {
                logOnce(
                        "entry " + s,
                        "lb: registry " + o.registryUrl() + " lists a bad entry, skipped: " + e.getMessage());
            }
        }
        backends = List.copyOf(next);
        for (Backend b : old.values()) if (!next.contains(b)) b.pool.close();
        if (next.isEmpty())
            logOnce(
                    "empty",
                    "lb: registry " + o.registryUrl() + " lists no usable backend; answering 502 until one registers");
        else logOnce("empty", null);
    }

    private synchronized void logOnce(String key, String message) {
        if (message == null) {
            logged.remove(key);
            return;
        }
        if (message.equals(logged.put(key, message))) return;
        System.err.println(message);
    }

    @Override
    public void close() {
        for (Backend b : backends) b.pool.close();
    }
}
