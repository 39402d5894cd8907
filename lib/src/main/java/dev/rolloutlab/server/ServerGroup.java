package dev.rolloutlab.server;

import dev.rolloutlab.engine.Checkpoint;
import dev.rolloutlab.engine.EngineOptions;
import dev.rolloutlab.engine.InProcessEngine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * N OpenAI ports in one JVM, as the seed's multi-port runner: one engine per port (the default, like one TPU device
 * per engine) or one engine shared by every port. Closing the group stops the ports, then the engines.
 */
public final class ServerGroup implements AutoCloseable {
    /** Whether each port gets its own engine. */
    public enum Engines { PER_PORT, SHARED }

    /** Everything needed to start a group; {@code ports} of 0 pick free ports. */
    public record Spec(Path model, List<Integer> ports, String host, Engines engines, int backendIdBase, String servedModelName,
                       String apiKey, String adminToken, boolean enableWeightReload, Duration idleTimeout, long initialVersion,
                       Limits limits) {
        public Spec(Path model, List<Integer> ports, String host, Engines engines, int backendIdBase, String servedModelName,
                    String apiKey, String adminToken, boolean enableWeightReload, Duration idleTimeout) {
            this(model, ports, host, engines, backendIdBase, servedModelName, apiKey, adminToken, enableWeightReload, idleTimeout, 0,
                    Limits.DEFAULT);
        }

        public Spec withLimits(Limits l) {
            return new Spec(model, ports, host, engines, backendIdBase, servedModelName, apiKey, adminToken, enableWeightReload,
                    idleTimeout, initialVersion, l);
        }

        public Spec withInitialVersion(long v) {
            return new Spec(model, ports, host, engines, backendIdBase, servedModelName, apiKey, adminToken, enableWeightReload,
                    idleTimeout, v, limits);
        }
    }

    private final List<OpenAiServer> servers = new ArrayList<>();
    private final List<InProcessEngine> engines = new ArrayList<>();
    private final List<WeightAdmin> admins = new ArrayList<>();

    private ServerGroup() {
    }

    /** Starts every port; if one fails (a port in use), the ones already started are stopped before it throws. */
    public static ServerGroup start(Spec spec) {
        ServerGroup g = new ServerGroup();
        try {
            Checkpoint first = Checkpoint.load(spec.model());
            InProcessEngine shared = null;
            WeightAdmin sharedAdmin = null;
            for (int i = 0; i < spec.ports().size(); i++) {
                InProcessEngine e;
                WeightAdmin a;
                if (spec.engines() == Engines.SHARED && shared != null) {
                    e = shared;
                    a = sharedAdmin;
                } else {
                    Checkpoint cp = i == 0 ? first : Checkpoint.load(spec.model());
                    e = new InProcessEngine(cp, EngineOptions.DEFAULT.withInitialVersion(spec.initialVersion()), "port" + i);
                    a = new WeightAdmin(e, spec.limits().reloadTimeout());
                    g.engines.add(e);
                    g.admins.add(a);
                    shared = e;
                    sharedAdmin = a;
                }
                OpenAiServer.Options o = new OpenAiServer.Options(spec.host(), spec.ports().get(i), spec.backendIdBase() + i,
                        spec.servedModelName(), spec.apiKey(), spec.adminToken(), spec.enableWeightReload(), spec.idleTimeout(),
                        spec.limits());
                OpenAiServer s = new OpenAiServer(e, a, o);
                g.servers.add(s);
                try {
                    s.start();
                } catch (RuntimeException ex) {
                    throw new IllegalStateException("cannot listen on " + spec.host() + ":" + spec.ports().get(i) + ": "
                            + rootMessage(ex) + " (is the port in use? pick another --base-port or use 0 for free ports)", ex);
                }
            }
            return g;
        } catch (RuntimeException e) {
            g.close();
            throw e;
        }
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) t = t.getCause();
        return t.getMessage();
    }

    public List<OpenAiServer> servers() {
        return servers;
    }

    public List<InProcessEngine> engines() {
        return engines;
    }

    public List<Integer> ports() {
        return servers.stream().map(OpenAiServer::port).toList();
    }

    public List<String> urls() {
        return servers.stream().map(OpenAiServer::baseUrl).toList();
    }

    @Override
    public void close() {
        for (OpenAiServer s : servers) {
            try {
                s.close();
            } catch (RuntimeException ignored) {
                // a server that failed to start has nothing to stop
            }
        }
        admins.forEach(WeightAdmin::close);
        engines.forEach(InProcessEngine::close);
    }
}
