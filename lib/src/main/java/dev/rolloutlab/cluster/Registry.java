package dev.rolloutlab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.openai.OpenAiClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Client side of the commander's registry: {@code GET /backends} → {@code {"ok","model","backends":[…]}}. */
public final class Registry {
    private Registry() {
    }

    /** The registry's answer, in the seed's order (local backends first, then each agent's); keys only for token holders. */
    public record BackendList(boolean ok, String model, List<String> backends, Map<String, String> apiKeys) {
    }

    public static BackendList fetchBackends(String registryUrl, Duration timeout) {
        return fetchBackends(registryUrl, null, timeout);
    }

    /** With the registry token the answer also carries the API keys that backends require. */
    public static BackendList fetchBackends(String registryUrl, String token, Duration timeout) {
        OpenAiClient c = new OpenAiClient(OpenAiClient.http(1, timeout), OpenAiClient.normalize(registryUrl), token, false);
        OpenAiClient.Exchange x = c.get("/backends");
        if (x.status() < 0) throw new IllegalStateException("registry " + registryUrl + " unreachable: " + x.error());
        if (x.status() != 200) throw new IllegalStateException("registry " + registryUrl + " answered GET /backends with " + x.status() + ": " + x.body());
        JsonNode n = x.json();
        List<String> backends = new ArrayList<>();
        for (JsonNode b : n.path("backends")) backends.add(b.asText());
        Map<String, String> keys = new LinkedHashMap<>();
        n.path("api_keys").fields().forEachRemaining(e -> keys.put(e.getKey(), e.getValue().asText()));
        String model = n.hasNonNull("model") ? n.get("model").asText() : null;
        return new BackendList(n.path("ok").asBoolean(false), model, backends, keys);
    }
}
