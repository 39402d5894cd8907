package dev.rolloutlab.sim;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.ServeProcess;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.Secrets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import okhttp3.OkHttpClient;

/**
 * One {@code serve --engine sim} process per simulated host, inside its namespace, with {@code ports} ports sharing one
 * engine: the sglang-jax shape (one process per host, several ports). Small JVMs (C1 only, small heap), so 64 of them
 * start on 2 cores in well under a minute. The link's round trip is added where {@link NetnsFleet#delay()} says: by
 * {@code tc netem} on the host's veth, or inside each host's own server ({@code POST /admin/sim_link}), which holds
 * each request and each response chunk for the one-way delay. One more port per host, on the same engine, takes weight
 * transfers only ({@link NetnsFleet#WEIGHTS_PORT}): their links are shaped apart from requests.
 */
public final class SimHosts implements AutoCloseable {
    static final List<String> JVM_FLAGS =
            List.of("-Xmx160m", "-Xss512k", "-XX:TieredStopAtLevel=1", "-XX:ActiveProcessorCount=2");
    /** A simulated engine's cache holds the bookkeeping, not keys and values: serve's default for this heap. */
    private static final long PREFIX_CACHE_MB = 20;

    private final List<ServeProcess> hosts;
    private final int ports;
    private final NetnsFleet net;
    private final String adminToken;
    private final OkHttpClient http = OpenAiClient.http(8, Duration.ofSeconds(30));
    /** A stopped sweep (Ctrl-C) must not leave host processes behind: they outlive their namespaces otherwise. */
    private final Thread hook = new Thread(this::stop, "sim-hosts-stop");

    private SimHosts(List<ServeProcess> hosts, int ports, NetnsFleet net, String adminToken) {
        this.hosts = hosts;
        this.ports = ports;
        this.net = net;
        this.adminToken = adminToken;
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            setLink(net.link().rttMs());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Starts hosts 1...n of {@code fleet}, all at once, their weight endpoints behind {@code adminToken} and their logs
     * in {@code logs}; if one fails, the others are stopped and its log tail is thrown.
     */
    public static SimHosts start(NetnsFleet fleet, int n, int ports, String profile, String adminToken, Path logs) {
        return start(fleet, n, ports, profile, adminToken, logs, false);
    }

    /**
     * As above; with {@code prefixCache} each host's engine keeps serve's default prefix cache, for workloads that
     * share prefixes (the grid and the sweeps resend their prompts every round, which a cache would turn into lookups).
     */
    public static SimHosts start(
            NetnsFleet fleet, int n, int ports, String profile, String adminToken, Path logs, boolean prefixCache) {
        // the token changes the hosts' weights: handed over in a file (a command line is visible to every user)
        List<ServeProcess> started = Secrets.handOver(
                logs.resolve("admin.token"), adminToken, f -> startAll(fleet, n, ports, profile, f, logs, prefixCache));
        return new SimHosts(started, ports, fleet, adminToken);
    }

    private static List<ServeProcess> startAll(
            NetnsFleet fleet, int n, int ports, String profile, Path adminTokenFile, Path logs, boolean prefixCache) {
        List<Future<ServeProcess>> fs = new ArrayList<>();
        List<ServeProcess> started = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) { // 4 at a time: more only fight over 2 cores
            for (int i = 1; i <= n; i++) {
                int host = i;
                fs.add(pool.submit(() -> ServeProcess.start(
                        fleet.inHost(host),
                        JVM_FLAGS,
                        List.of(
                                "--engine",
                                "sim",
                                "--sim-profile",
                                profile,
                                "--shape",
                                "tiny",
                                "--num-servers",
                                String.valueOf(ports + 1),
                                "--base-port",
                                String.valueOf(NetnsFleet.WEIGHTS_PORT),
                                "--host",
                                NetnsFleet.address(host),
                                "--engine-sharing",
                                "shared",
                                "--served-model-name",
                                "sim",
                                "--prefix-cache-mb",
                                prefixCache ? String.valueOf(PREFIX_CACHE_MB) : "0",
                                "--enable-weight-reload",
                                "--admin-token-file",
                                adminTokenFile.toString()),
                        logs.resolve("sim-host-" + host + ".log"),
                        Duration.ofSeconds(180))));
            }
            RuntimeException failed = null;
            for (var f : fs) {
                try {
                    started.add(f.get());
                } catch (Exception e) {
                    if (failed == null)
                        failed = new IllegalStateException(
                                "a simulated host did not start: "
                                        + (e.getCause() != null ? e.getCause().getMessage() : e),
                                e);
                }
            }
            if (failed != null) {
                started.forEach(ServeProcess::close);
                throw failed;
            }
        }
        return started;
    }

    /** Every request port of every host (not the weights ports). */
    public List<String> urls() {
        List<String> out = new ArrayList<>();
        for (ServeProcess h : hosts) out.addAll(h.urls().subList(1, h.urls().size()));
        return out;
    }

    /** Every port of the first {@code n} hosts. */
    public List<String> urls(int n) {
        return urls().subList(0, n * ports);
    }

    /** Where the links' delay is added. */
    NetnsFleet.Delay delay() {
        return net.delay();
    }

    /** The link's profile: the round trip every host's link should add. */
    LinkProfile link() {
        return net.link();
    }

    /**
     * Sets the round trip every host's link adds from now on (the profile's jitter stays), by the fleet's mechanism:
     * what the link check and the tests move to compare a link with none, and to take a mechanism's own cost off.
     */
    void setLink(double rttMs) {
        if (net.delay() == NetnsFleet.Delay.NETEM) {
            net.setNetem(rttMs);
            return;
        }
        Map<String, String> admin = Map.of("X-Admin-Token", adminToken);
        double jitter = Math.min(rttMs, net.link().jitterMs());
        hosts.parallelStream().forEach(h -> {
            OpenAiClient.Exchange x = new OpenAiClient(http, h.urls().get(0), null, true)
                    .post("/admin/sim_link", Map.of("rtt_ms", rttMs, "jitter_ms", jitter), admin);
            if (x.status() != 200)
                throw new IllegalStateException(
                        "cannot set the link of " + h.urls().get(0) + ": " + x.status() + " " + x.body());
        });
    }

    /**
     * How late host 1's link timer ended its waits (median and 99th percentile, µs) since the last {@link #setLink};
     * NaN under netem, whose timer is the kernel's.
     */
    double[] timerLateUs() {
        if (net.delay() == NetnsFleet.Delay.NETEM) return new double[] {Double.NaN, Double.NaN};
        var x = new OpenAiClient(http, hosts.get(0).urls().get(0), null, true)
                .getWith("/admin/sim_link", Map.of("X-Admin-Token", adminToken));
        if (x.status() != 200) return new double[] {Double.NaN, Double.NaN};
        JsonNode j;
        try {
            j = Json.parse(x.body());
        } catch (JsonProcessingException e) {
            return new double[] {Double.NaN, Double.NaN};
        }
        return new double[] {
            j.path("timer_late_median_us").asDouble(Double.NaN),
            j.path("timer_late_p99_us").asDouble(Double.NaN)
        };
    }

    /** Host {@code i}'s weights port (1-based): where its weights go, from the trainer or from another host. */
    public String hostUrl(int i) {
        return hosts.get(i - 1).urls().get(0);
    }

    /** One URL per host (its weights port): where its weights are pushed, since its ports share one engine. */
    public List<String> hostUrls(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(hosts.get(i).urls().get(0));
        return out;
    }

    /** The process ids of the host servers (to check teardown). */
    public List<Long> pids() {
        return hosts.stream().map(h -> h.jvm().pid()).toList();
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running: it stops them
        }
    }

    private void stop() {
        hosts.parallelStream().forEach(ServeProcess::close);
    }
}
