package dev.rolloutlab.sim;

import dev.rolloutlab.process.ServeProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One {@code serve --engine sim} process per simulated host, inside its namespace, with {@code ports} ports sharing one
 * engine: the sglang-jax shape (one process per host, several ports). Small JVMs (C1 only, small heap), so 64 of them
 * start on 2 cores in well under a minute. The client side reaches each port through a {@link DelayRelay} (at zero
 * delay too, so runs with and without a delay take the same path). One more port per host, on the same engine, takes
 * weight transfers only ({@link NetnsFleet#WEIGHTS_PORT}): their links are shaped apart from requests.
 */
public final class SimHosts implements AutoCloseable {
    static final List<String> JVM_FLAGS =
            List.of("-Xmx160m", "-Xss512k", "-XX:TieredStopAtLevel=1", "-XX:ActiveProcessorCount=2");

    private final List<ServeProcess> hosts;
    private final int ports;
    /**
     * Per host, its ports as the client side reaches them: through a {@link DelayRelay}, also at zero delay, so paths
     * compare.
     */
    private final List<List<String>> reach = new ArrayList<>();

    private final List<DelayRelay> relays = new ArrayList<>();
    /** A stopped sweep (Ctrl-C) must not leave host processes behind: they outlive their namespaces otherwise. */
    private final Thread hook = new Thread(this::stop, "sim-hosts-stop");

    private final LinkProfile link;

    private SimHosts(List<ServeProcess> hosts, int ports, LinkProfile link) {
        this.hosts = hosts;
        this.ports = ports;
        this.link = link;
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            for (ServeProcess h : hosts) {
                List<String> urls = new ArrayList<>();
                for (String u : h.urls()) {
                    URI uri = URI.create(u);
                    DelayRelay d = new DelayRelay(
                            new InetSocketAddress(uri.getHost(), uri.getPort()), link.rttMs(), link.jitterMs());
                    relays.add(d);
                    urls.add(d.url());
                }
                reach.add(urls);
            }
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("cannot open a delay relay: " + e.getMessage(), e);
        }
    }

    /**
     * Starts hosts 1…n of {@code fleet}, all at once; if one fails, the others are stopped and its log tail is thrown.
     */
    public static SimHosts start(NetnsFleet fleet, int n, int ports, String profile, Path adminTokenFile, Path logs) {
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
        return new SimHosts(started, ports, fleet.link());
    }

    /** Every request port of every host (not the weights ports). */
    public List<String> urls() {
        List<String> out = new ArrayList<>();
        for (List<String> h : reach) out.addAll(h.subList(1, h.size()));
        return out;
    }

    /** Every port of the first {@code n} hosts. */
    public List<String> urls(int n) {
        return urls().subList(0, n * ports);
    }

    /** The round trip the relays add before any compensation. */
    double linkRttMs() {
        return link.rttMs();
    }

    /** Takes a measured round-trip cost of the relays themselves off their delays (half each way). */
    void compensate(double rttMs) {
        relays.forEach(r -> r.compensate(rttMs / 2));
    }

    /**
     * Host {@code i}'s weights port straight, not through its link's relay (1-based): host to host, and the link
     * check's baseline.
     */
    public String directUrl(int i) {
        return hosts.get(i - 1).urls().get(0);
    }

    /**
     * One URL per host (its weights port, through the link's relay): where its weights are pushed, since its ports
     * share one engine.
     */
    public List<String> hostUrls(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(reach.get(i).get(0));
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
        relays.forEach(DelayRelay::close);
        hosts.parallelStream().forEach(ServeProcess::close);
    }
}
