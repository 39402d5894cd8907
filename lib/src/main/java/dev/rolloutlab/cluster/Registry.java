package dev.rolloutlab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.http1.Fetch;
import dev.rolloutlab.openai.TransportError;
import dev.rolloutlab.util.HostPort;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Client side of the commander's registry, over the same small HTTP/1.1 codec as the balancer: {@code GET /backends}.
 */
public final class Registry {
    private Registry() {}

    /**
     * The registry's answer, in {@code pod_commander}'s order (local backends first, then each agent's); keys only for
     * token holders.
     */
    public record BackendList(boolean ok, String model, List<String> backends, Map<String, String> apiKeys) {}

    public static BackendList fetchBackends(String registryUrl, Duration timeout) {
        return fetchBackends(registryUrl, null, timeout);
    }

    /** With the registry token the answer also carries the API keys that backends require. */
    public static BackendList fetchBackends(String registryUrl, String token, Duration timeout) {
        String base = HostPort.url(registryUrl);
        Fetch.Response x;
        try {
            x = Fetch.get(base + "/backends", token, timeout, 4 << 20);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "registry " + registryUrl + " unreachable: " + TransportError.plain(TransportError.describe(e)));
        }
        if (x.status() != 200)
            throw new IllegalStateException(
                    "registry " + registryUrl + " answered GET /backends with " + x.status() + ": " + x.text());
        JsonNode n;
        try {
            n = Json.parse(x.text());
        } catch (IOException e) {
            throw new IllegalStateException("registry " + registryUrl
                    + " answered GET /backends with something other than JSON: " + e.getMessage());
        }
        List<String> backends = new ArrayList<>();
        for (JsonNode b : n.path("backends")) backends.add(b.asText());
        Map<String, String> keys = new LinkedHashMap<>();
        n.path("api_keys")
                .properties()
                .forEach(e -> keys.put(e.getKey(), e.getValue().asText()));
        String model = n.hasNonNull("model") ? n.get("model").asText() : null;
        return new BackendList(n.path("ok").asBoolean(false), model, backends, keys);
    }
}
