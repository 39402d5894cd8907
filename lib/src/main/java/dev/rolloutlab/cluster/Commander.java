package dev.rolloutlab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.HostPort;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;

/**
 * The pod commander ({@code pod_commander}): start local services, start remote ones through agents (in list order),
 * wait until every backend answers {@code /v1/models}, then publish the registry. Unlike {@code pod_commander}, a
 * failed start stops everything it had already started before it reports the error.
 */
public final class Commander implements AutoCloseable {
    /**
     * {@code pod_commander}'s flags, plus the agent token, the registry token (writes are refused without one) and the
     * API key local servers require (mandatory when they bind beyond loopback).
     */
    public record Options(
            String backendKind,
            String model,
            int numServersPerWorker,
            int basePort,
            String bindHost,
            String loadFormat,
            int contextLength,
            int maxTotalTokens,
            int maxPrefillTokens,
            boolean enableWeightReload,
            String python,
            List<String> remoteAgents,
            Duration startupTimeout,
            String registryHost,
            int registryPort,
            String advertiseHost,
            Path workdir,
            String agentToken,
            int remoteBasePort,
            String registryToken,
            String serverApiKey) {
        public Options {
            if (serverApiKey != null && serverApiKey.isBlank()) serverApiKey = null;
            if (numServersPerWorker > 0 && !HostPort.isLoopback(bindHost) && serverApiKey == null) {
                throw new IllegalArgumentException(
                        "--bind-host " + bindHost + " exposes the local servers beyond loopback: "
                                + "give them a key with --server-api-key-file");
            }
        }
    }

    private final Options o;
    private final List<String> started = new ArrayList<>(); // agents with a service we started
    private Service local;
    private RegistryServer registry;
    private final OkHttpClient http = OpenAiClient.http(8, Duration.ofSeconds(30));

    public Commander(Options options) {
        this.o = options;
    }

    public String registryUrl() {
        return registry == null ? null : registry.url();
    }

    public RegistryServer registry() {
        return registry;
    }

    public void start() {
        try {
            List<String> backends = new ArrayList<>();
            String bind = o.bindHost().equals("0.0.0.0") ? "127.0.0.1" : o.bindHost();
            String advertise = o.advertiseHost() == null || o.advertiseHost().isEmpty() ? bind : o.advertiseHost();
            // 1. local
            if (o.numServersPerWorker() > 0) {
                local = startLocal(bind);
                for (int p : local.ports()) backends.add(advertise + ":" + p);
            }
            // 2. remotes, in order
            for (String agent : o.remoteAgents()) {
                OpenAiClient c = new OpenAiClient(http, agent, o.agentToken(), true);
                OpenAiClient.Exchange x = c.post("/admin/start", payload(), Map.of());
                JsonNode r = x.status() > 0 ? safeJson(x) : null;
                if (r == null || !r.path("ok").asBoolean(false)) {
                    throw new IllegalStateException("remote start failed for " + agent + ": "
                            + (x.error() != null ? x.error() : x.status() + " " + x.body()));
                }
                started.add(agent);
                List<Integer> ports = new ArrayList<>();
                r.path("ports").forEach(p -> ports.add(p.asInt()));
                if (ports.size() != o.numServersPerWorker())
                    throw new IllegalStateException(
                            "expected " + o.numServersPerWorker() + " ports from " + agent + ", got " + ports);
                String agentHost = HttpUrl.parse(HostPort.url(agent)).host();
                for (int p : ports) backends.add(agentHost + ":" + p);
            }
            // 3. wait for each backend
            for (String b : backends) waitReady(b);
            // 4. registry
            Map<String, String> keys = new LinkedHashMap<>();
            if (o.serverApiKey() != null && local != null)
                for (int p : local.ports()) keys.put(advertise + ":" + p, o.serverApiKey());
            registry = new RegistryServer(
                    o.registryHost(),
                    o.registryPort(),
                    o.model(),
                    backends,
                    keys,
                    Duration.ofSeconds(30),
                    o.registryToken() != null ? o.registryToken() : o.agentToken());
        } catch (RuntimeException e) {
            stop();
            throw e;
        }
    }

    private Service startLocal(String bind) {
        if (o.backendKind().equals("mock-openai")) {
            return Service.mock(
                    bind,
                    o.numServersPerWorker(),
                    o.basePort(),
                    o.model(),
                    o.serverApiKey() == null ? "" : o.serverApiKey(),
                    1000);
        }
        LaunchTemplate t = LaunchTemplate.builtIns().get(o.backendKind());
        if (t == null)
            throw new IllegalArgumentException("--backend-kind " + o.backendKind()
                    + ": unknown (mock-openai, rollout-lab-serve, sglang-jax-multi-openai)");
        Map<String, String> p = params();
        p.put("host", bind);
        p.put("python", o.python());
        p.keySet().retainAll(t.params().keySet());
        if (o.serverApiKey() != null) t.putApiKey(p, o.serverApiKey(), o.workdir());
        return Service.process(
                t.expand(p), o.workdir(), o.workdir().resolve("commander_local_" + o.backendKind() + ".log"));
    }

    /** The template values a commander may ask for, locally or from an agent (never host, executable or key). */
    private Map<String, String> params() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("model", o.model());
        p.put("served_model_name", o.model()); // clients send the registry's model name; serve answers to it
        p.put("num_servers", String.valueOf(o.numServersPerWorker()));
        p.put("base_port", String.valueOf(o.basePort()));
        p.put("load_format", o.loadFormat());
        if (o.contextLength() > 0) p.put("context_length", String.valueOf(o.contextLength()));
        if (o.maxTotalTokens() > 0) p.put("max_total_tokens", String.valueOf(o.maxTotalTokens()));
        if (o.maxPrefillTokens() > 0) p.put("max_prefill_tokens", String.valueOf(o.maxPrefillTokens()));
        if (o.enableWeightReload()) p.put("enable_weight_reload", "true");
        return p;
    }

    private Map<String, Object> payload() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", o.backendKind());
        if (o.backendKind().equals("mock-openai")) {
            m.put("num_servers", o.numServersPerWorker());
            m.put("base_port", 0);
            m.put("model_id", o.model());
        } else {
            LaunchTemplate t = LaunchTemplate.builtIns().get(o.backendKind());
            Map<String, String> p = params();
            p.put("base_port", String.valueOf(o.remoteBasePort()));
            if (t != null) p.keySet().retainAll(t.settable());
            m.putAll(p);
            m.put("log_name", "agent_" + o.backendKind() + "_" + System.currentTimeMillis() / 1000 + ".log");
        }
        m.put("force", true);
        return m;
    }

    private static JsonNode safeJson(OpenAiClient.Exchange x) {
        try {
            return x.json();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private void waitReady(String backend) {
        OpenAiClient c = new OpenAiClient(http, HostPort.url(backend), o.serverApiKey(), true);
        String[] last = {""};
        boolean up = Await.until(
                () -> {
                    OpenAiClient.Exchange x = c.get("/v1/models");
                    // 401: serving, behind a key its agent's operator set
                    if (x.status() == 200 || x.status() == 401) return true;
                    last[0] = x.error() != null ? x.error() : "HTTP " + x.status();
                    if (local != null && !local.alive())
                        throw new IllegalStateException("local " + o.backendKind() + " exited: " + local.status());
                    return false;
                },
                o.startupTimeout());
        if (up) return;
        throw new IllegalStateException(backend + " not ready: " + last[0]);
    }

    /** Registry down, every agent we started told to stop, local services stopped. Safe to call twice. */
    public void stop() {
        if (registry != null) {
            registry.close();
            registry = null;
        }
        for (String agent : started)
            new OpenAiClient(http, agent, o.agentToken(), true).post("/admin/stop", Map.of(), Map.of());
        started.clear();
        if (local != null) {
            local.stop(30);
            local = null;
        }
    }

    @Override
    public void close() {
        stop();
    }
}
