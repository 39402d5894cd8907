package dev.rolloutlab.sim;

import dev.rolloutlab.bench.LengthDist;
import dev.rolloutlab.bench.LoadGenerator;
import dev.rolloutlab.bench.Target;
import dev.rolloutlab.bench.Workload;
import dev.rolloutlab.lb.LbOptions;
import dev.rolloutlab.lb.LoadBalancer;
import dev.rolloutlab.lb.Policy;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.process.MachineLoad;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.RunFolder;
import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.results.Summary;
import dev.rolloutlab.results.Topology;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import okhttp3.OkHttpClient;

/**
 * {@code sim sweep}: the fleet at growing host counts on simulated hosts (namespaces, shaped links, simulated engines):
 * throughput and latency through client fanout and through {@code lb}, and the time a weight update takes to reach
 * every host, pushed to all at once or host by host. The hosts start once, at the largest count; smaller counts use the
 * first hosts. Results go to a run folder: sim_sweep.csv, sim_weights.csv and run.json with every assumption.
 *
 * <p>With a group size, it sweeps GRPO groups instead (each prompt sent as that many separate requests, every engine
 * with a prefix cache): client round robin and the balancer's round-robin, cache-aware and sticky policies, to
 * sim_prefix.csv. The simulated engines charge prefill only for the tokens their cache did not hold, so the sweep
 * predicts what keeping a group together buys at a host count this machine cannot hold.
 */
public final class Sweep {
    /**
     * What to sweep. {@code modelGb} is the real size of one weight update; {@code bytesScale} shrinks it and the link
     * rate alike.
     */
    public record Config(
            List<Integer> hosts,
            int ports,
            String profile,
            LinkProfile link,
            double bytesScale,
            double modelGb,
            int requestsPerPort,
            int concurrencyPerPort,
            int promptTokens,
            int outputTokens,
            int groupSize) {
        /** Sweeping groups of {@code groupSize} separate requests of one prompt, rather than independent prompts. */
        public boolean groups() {
            return groupSize > 0;
        }
    }

    /**
     * One row of sim_sweep.csv.
     *
     * @param showsThisMachine this machine's cores were above 90 % busy, or requests failed although the simulated
     *     hosts inject no failure: the point shows this machine, not the pod
     */
    public record Point(
            int hosts,
            int ports,
            Topology topology,
            int completed,
            int failed,
            double requestThroughput,
            double outputThroughput,
            double meanTtftMs,
            double p50E2elMs,
            double p99E2elMs,
            double machineCpuBusyPct,
            boolean showsThisMachine) {
        Point(int hosts, int ports, Topology topology, Summary s, double busy) {
            this(
                    hosts,
                    ports,
                    topology,
                    s.completed(),
                    s.failed(),
                    s.throughput().requests().estimate(),
                    s.throughput().outputTokens().estimate(),
                    s.ttft().mean().estimate(),
                    s.e2el().median().estimate(),
                    s.e2el().p99(),
                    busy,
                    busy > 90 || s.failed() > 0);
        }
    }

    /**
     * One row of sim_weights.csv: a weight update to every host, measured and as bytes over the link rate predicts it.
     */
    public record Push(
            int hosts,
            Strategy strategy,
            long bytesPerHost,
            long realBytesPerHost,
            double wallMs,
            double predictedMs) {}

    private final Config c;
    private final PrintStream log;

    public Sweep(Config c, PrintStream log) {
        this.c = c;
        this.log = log;
    }

    public Path run(Path out) throws Exception {
        RunFolder folder = RunFolder.create(out, "sim-sweep");
        String token = UUID.randomUUID().toString();
        int max = c.hosts().stream().mapToInt(Integer::intValue).max().orElseThrow();
        List<Point> points = new ArrayList<>();
        List<Push> pushes = new ArrayList<>();
        List<GroupSweep.Point> prefix = new ArrayList<>();
        Map<String, Object> run = config();
        String stopped = null;
        long t0 = System.nanoTime();
        // one host more than the largest count: the storage host that storage pulls pull from
        try (NetnsFleet fleet = NetnsFleet.up(max + 1, c.link(), c.bytesScale())) {
            log.printf(
                    "sim: %d hosts and a storage host up (namespaces, %s links); starting the simulated servers%n",
                    max, c.link().name());
            try (SimHosts sim = SimHosts.start(
                    fleet, max + 1, c.ports(), c.profile(), token, folder.dir().resolve("logs"), c.groups())) {
                log.printf("sim: servers ready after %.0f s%n", (System.nanoTime() - t0) / 1e9);
                var http = OpenAiClient.http(4096, Duration.ofSeconds(300), Duration.ofSeconds(30));
                LinkCheck check = LinkCheck.measure(sim, http, c.link(), c.bytesScale(), token, true);
                run.put("link_check", check);
                log.printf(
                        "sim: link check: round trip %.3f ms (profile %.3f ± %.3f), rate %.1f Mbit/s (profile "
                                + "%.1f after scaling)%n",
                        check.rttMs(),
                        check.expectedRttMs(),
                        check.toleranceMs(),
                        check.rateMbit(),
                        check.expectedRateMbit());
                if (!check.ok()) throw new IllegalStateException("link check failed: " + check.failure());
                if (c.groups()) {
                    for (int h : c.hosts()) {
                        for (String routing : GroupSweep.ROUTINGS)
                            prefix.add(GroupSweep.measure(c, http, sim, h, routing, log));
                        folder.writeTable(PREFIX_FILE, GroupSweep.Point.class, prefix);
                    }
                    return done(folder, run, t0, points, pushes, prefix, null);
                }
                Propagation propagation = new Propagation(sim, http, token, max + 1, c.link(), c.bytesScale());
                for (int h : c.hosts()) {
                    for (Topology topology : List.of(Topology.HTTP_N, Topology.LB))
                        points.add(load(http, sim, h, topology));
                    for (Strategy strategy : Propagation.STRATEGIES) pushes.add(push(propagation, h, strategy));
                    folder.writeTable("sim_sweep.csv", Point.class, points);
                    folder.writeTable("sim_weights.csv", Push.class, pushes);
                }
            }
        } catch (RuntimeException e) {
            stopped = e.getMessage();
            log.println("sim: stopped: " + stopped);
        }
        return done(folder, run, t0, points, pushes, prefix, stopped);
    }

    /** The sim_prefix.csv of a groups sweep. */
    public static final String PREFIX_FILE = "sim_prefix.csv";

    /** Writes what was measured, complete or not; throws when {@code stopped} says why it is not. */
    private Path done(
            RunFolder folder,
            Map<String, Object> run,
            long t0,
            List<Point> points,
            List<Push> pushes,
            List<GroupSweep.Point> prefix,
            String stopped) {
        run.put("wall_s", (System.nanoTime() - t0) / 1e9);
        if (c.groups()) folder.writeTable(PREFIX_FILE, GroupSweep.Point.class, prefix);
        else {
            folder.writeTable("sim_sweep.csv", Point.class, points);
            folder.writeTable("sim_weights.csv", Push.class, pushes);
        }
        folder.writeRun(run, stopped != null, stopped);
        if (stopped != null)
            throw new IllegalStateException(stopped + " (what was measured is in " + folder.dir() + ")");
        return folder.dir();
    }

    private Point load(OkHttpClient http, SimHosts sim, int hosts, Topology topology) throws InterruptedException {
        List<String> urls = sim.urls(hosts);
        int ports = urls.size(), n = ports * c.requestsPerPort(), conc = ports * c.concurrencyPerPort();
        Workload w = Workload.synthetic(
                n,
                LengthDist.fixed(c.promptTokens()),
                new Workload.Sampling(
                        CompletionRequest.Endpoint.COMPLETIONS, "sim", c.outputTokens(), null, 1.0, 1L, 1, false, true),
                1024,
                hosts);
        LoadBalancer lb = topology == Topology.LB
                ? new LoadBalancer(LbOptions.builder()
                        .backends(urls)
                        .policy(Policy.parse("least-load"))
                        .build())
                : null;
        try {
            List<Target> targets = lb == null
                    ? urls.stream()
                            .map(u -> Target.http(new OpenAiClient(http, u, null, true)))
                            .toList()
                    : List.of(Target.http(new OpenAiClient(http, lb.url(), null, true)));
            long[] cpu0 = MachineLoad.cpuTicks();
            Summary s = new LoadGenerator(
                            targets,
                            w,
                            LoadGenerator.Options.closed(topology, Connection.KEEP_ALIVE, conc, n)
                                    .withWarmup(Math.min(n, 2)))
                    .run()
                    .summary();
            long[] cpu1 = MachineLoad.cpuTicks();
            if (lb != null) {
                LoadBalancer.Counters k = lb.counters();
                log.printf(
                        "  %3d hosts  lb: %d attempts on backends for %d requests, %d retried, %d errors; "
                                + "first-byte timeout %s%s%n",
                        hosts,
                        k.attempts(),
                        n + Math.min(n, 2),
                        k.retries(),
                        k.errors(),
                        k.firstByteTimeout(),
                        k.lastError() == null ? "" : "; last error: " + k.lastError());
            }
            double busy = MachineLoad.busyPct(cpu0, cpu1);
            Point p = new Point(hosts, c.ports(), topology, s, busy);
            log.printf(
                    "  %3d hosts x %d ports  %-6s  %8.0f tok/s  p50 %7.1f ms  p99 %7.1f ms  failed %d  this "
                            + "machine's CPU %3.0f %%%s%n",
                    hosts,
                    c.ports(),
                    topology,
                    s.throughput().outputTokens().estimate(),
                    s.e2el().median().estimate(),
                    s.e2el().p99(),
                    s.failed(),
                    busy,
                    p.showsThisMachine() ? " (not a prediction: this point shows this machine)" : "");
            return p;
        } finally {
            if (lb != null) lb.close();
        }
    }

    /** One scaled update to the first {@code hosts} hosts; the wall time is until the last host serves it. */
    private Push push(Propagation p, int hosts, Strategy strategy) {
        long real = (long) (c.modelGb() * 1e9);
        int bytes = (int) Math.min(Integer.MAX_VALUE - 64, real / c.bytesScale());
        double ms = p.push(strategy, hosts, bytes), predicted = p.predictedMs(strategy, hosts, bytes);
        log.printf(
                "  %3d hosts  %-17s  %.0f MB per host (%.1f GB real)  %8.0f ms (bytes / rate: %.0f ms)%n",
                hosts, strategy, bytes / 1e6, real / 1e9, ms, predicted);
        return new Push(hosts, strategy, bytes, real, ms, predicted);
    }

    /** The run's configuration and every assumption the prediction rests on. */
    private Map<String, Object> config() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hosts", c.hosts());
        m.put("ports_per_host", c.ports());
        m.put("profile", c.profile());
        m.put("timing_model", Profile.load(c.profile()).model());
        m.put("link", c.link());
        m.put("bytes_scale", c.bytesScale());
        m.put("model_gb", c.modelGb());
        m.put("requests_per_port", c.requestsPerPort());
        m.put("concurrency_per_port", c.concurrencyPerPort());
        m.put("prompt_tokens", c.promptTokens());
        m.put("output_tokens", c.outputTokens());
        if (c.groups()) {
            m.put("group_size", c.groupSize());
            m.put("workload", "groups: each prompt sent as group_size separate requests; prefix caches on");
        }
        m.put(
                "assumptions",
                List.of(
                        "each host runs one serve process whose ports share one simulated engine; a step "
                                + "takes the timing model's time",
                        "every host's link to the client side has the profile's rate in each direction (tc "
                                + "htb) and its delay and jitter: by tc netem on the host's veth where the kernel "
                                + "has sch_netem (host to host then crosses two links), otherwise inside each "
                                + "host's server, which holds requests and response chunks for the one-way delay "
                                + "(host to host then carries the receiving host's link once, and loss is "
                                + "refused); link_check.delay says which",
                        "requests cross the links at the profile's real rate; weight transfers (their own "
                                + "port) at the rate over bytes_scale, as their payloads are scaled; "
                                + "at bytes_scale 1 they "
                                + "share the link",
                        "the client side (client, load balancer, trainer) has one uplink at the link's rate, "
                                + "as each host has; the storage host too",
                        "predicted_ms counts bytes over those rates only: no protocol overhead, no disk, no parsing",
                        "weight payloads and link rates are both divided by bytes_scale, so transfer times "
                                + "are the real ones",
                        "client, balancer and every simulated host share this machine's cores: a point where "
                                + "they are saturated shows this machine, not the pod"));
        return m;
    }
}
