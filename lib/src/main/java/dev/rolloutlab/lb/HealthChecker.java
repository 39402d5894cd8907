package dev.rolloutlab.lb;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.http1.Fetch;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Active health checks, all backends probed at once every interval: {@code /health} (or, where a server has none,
 * {@code /v1/models}) must answer 200, or the backend is down (no new requests) until a later probe passes. A probe
 * that gets no answer within the probe timeout takes it down only after {@code breakerFailures} such probes in a row:
 * an overloaded backend answers late, and taking it out moves its load onto the others until they answer late too (a
 * simulated 32-host fleet on a saturated machine lost 598 of 1,026 requests so). A backend marked mid-update must also
 * answer {@code /v1/models}; policies that read load get {@code /get_load}. Also refreshes the backend set.
 */
final class HealthChecker implements AutoCloseable {
    private final LbOptions o;
    private final BackendSource source;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("lb-health").daemon(true).factory());
    private final ExecutorService probes = Executors.newVirtualThreadPerTaskExecutor();

    HealthChecker(LbOptions o, BackendSource source) {
        this.o = o;
        this.source = source;
        long ms = o.healthInterval().toMillis();
        timer.scheduleWithFixedDelay(this::probeAll, ms, ms, TimeUnit.MILLISECONDS);
        if (source.followsRegistry()) timer.scheduleWithFixedDelay(source::refresh, 2, 2, TimeUnit.SECONDS);
    }

    private void probeAll() {
        List<Future<?>> running = new ArrayList<>();
        for (Backend b : source.current()) running.add(probes.submit(() -> probe(b)));
        for (Future<?> f : running) {
            try {
                f.get();
            } catch (Exception e) {
                // a probe that throws counts as failed inside probe(); nothing to add here
            }
        }
    }

    private void probe(Backend b) {
        int health = status(b, "/health");
        if (health == TIMED_OUT) {
            b.health.probeTimedOut(o.breakerFailures());
            return;
        }
        // servers without /health (some OpenAI-compatible ones) are probed on the model list instead
        boolean ok = health == 200 || health == 404 && status(b, "/v1/models") == 200;
        Health h = b.health;
        if (ok && h.updating && System.nanoTime() >= h.unavailableUntilNs) {
            // a backend mid-update answers /health; only a 200 from a model path says it serves again
            if (status(b, "/v1/models") == 200) h.updating = false;
        }
        h.probed(ok);
        if (ok && (o.policy().usesReportedLoad() || o.versionConsistent())) readLoad(b);
    }

    private static final int TIMED_OUT = -2;

    /**
     * The probe's HTTP status, -1 when the connection was refused or broken, {@link #TIMED_OUT} when no answer came in
     * time.
     */
    private int status(Backend b, String path) {
        try {
            return Fetch.get(b.url + path, bearer(b), o.healthTimeout(), 1 << 16)
                    .status();
        } catch (SocketTimeoutException e) {
            return TIMED_OUT;
        } catch (IOException e) {
            return -1;
        }
    }

    private String bearer(Backend b) {
        if (b.authorizationLine != null)
            return b.authorizationLine
                    .substring("Authorization: Bearer ".length())
                    .trim();
        return o.apiKey();
    }

    /** The queue and, where the server reports it (ours does), the weights version, from sglang's {@code /get_load}. */
    private void readLoad(Backend b) {
        int load = -1;
        try {
            Fetch.Response r = Fetch.get(b.url + "/get_load", bearer(b), o.healthTimeout(), 1 << 16);
            if (r.status() == 200) {
                JsonNode n = Json.parse(r.text());
                if (n.isArray()) {
                    load = 0;
                    for (JsonNode e : n) load += e.path("num_reqs").asInt(0);
                } else {
                    load = n.path("num_reqs").asInt(-1);
                    if (n.path("weights_version").canConvertToLong())
                        b.version = n.path("weights_version").asLong();
                }
            }
        } catch (IOException | RuntimeException e) {
            load = -1;
        }
        b.health.inFlightAtReport = b.inFlight.get();
        b.health.reportedLoad = load;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        probes.shutdownNow();
    }
}
