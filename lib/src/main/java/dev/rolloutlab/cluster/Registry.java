package dev.rolloutlab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.openai.OpenAiClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Client side of the commander's registry: {@code GET /backends} → {@code {"ok","model","backends":[…]}}. */
public final class Registry {
    private Registry() {
    }

    /** The registry's answer, in the seed's order (local backends first, then each agent's). */
    public record BackendList(boolean ok, String model, List<String> backends) {
    }

    public static BackendList fetchBackends(String registryUrl, Duration timeout) {
        OpenAiClient c = new OpenAiClient(OpenAiClient.http(1, timeout), OpenAiClient.normalize(registryUrl), null, false);
        OpenAiClient.Exchange x = c.get("/backends");
        if (x.status() < 0) throw new IllegalStateException("GET " + registryUrl + "/backends failed: " + x.error());
        if (x.status() != 200) throw new IllegalStateException("GET /backends -> " + x.status() + ": " + x.body());
        JsonNode n = x.json();
        List<String> backends = new ArrayList<>();
        for (JsonNode b : n.path("backends")) backends.add(b.asText());
        String model = n.hasNonNull("model") ? n.get("model").asText() : null;
        return new BackendList(n.path("ok").asBoolean(false), model, backends);
    }
}
