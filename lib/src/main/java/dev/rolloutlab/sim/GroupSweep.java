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
import dev.rolloutlab.results.PrefixUse;
import dev.rolloutlab.results.Summary;
import dev.rolloutlab.results.Topology;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import okhttp3.OkHttpClient;

/**
 * {@code sim sweep --group-size}: GRPO groups (each prompt sent as that many separate requests) over simulated hosts
 * whose engines keep prefix caches, through each way of routing them. A simulated engine charges prefill only for the
 * prompt tokens its cache did not hold, so where a group's requests land decides what it computes, at host counts this
 * machine could not hold as real engines.
 */
final class GroupSweep {
    private GroupSweep() {}

    /**
     * One row of sim_prefix.csv: GRPO groups over the first {@code hosts} hosts through one way of routing them.
     *
     * @param computedPrefillPerSample prompt tokens each sample still computed after caches and routing
     */
    public record Point(
            int hosts,
            int ports,
            Topology topology,
            String routing,
            int completed,
            int failed,
            double outputThroughput,
            double meanTtftMs,
            double p50E2elMs,
            double computedPrefillPerSample,
            double cacheHitRate,
            double machineCpuBusyPct,
            boolean showsThisMachine) {}

    /** The ways of routing a groups sweep compares: the client's round robin, and the balancer's policies. */
    static final List<String> ROUTINGS = List.of("client round-robin", "lb round-robin", "lb cache-aware", "lb sticky");

    /**
     * GRPO groups over the first {@code hosts} hosts, routed by {@code routing}: as many groups as the grid sweep has
     * requests per port over the group size, a whole group in flight per port, on prompts no engine has seen.
     */
    static Point measure(Sweep.Config c, OkHttpClient http, SimHosts sim, int hosts, String routing, PrintStream log)
            throws InterruptedException {
        List<String> urls = sim.urls(hosts);
        int ports = urls.size(), units = Math.max(1, ports * c.requestsPerPort() / c.groupSize());
        // a seed per host count and routing: no way of routing finds another's prompts in the caches
        long seed = 7919L * hosts + ROUTINGS.indexOf(routing);
        Workload w = Workload.synthetic(
                        units,
                        LengthDist.fixed(c.promptTokens()),
                        new Workload.Sampling(
                                CompletionRequest.Endpoint.COMPLETIONS,
                                "sim",
                                c.outputTokens(),
                                null,
                                1.0,
                                seed,
                                1,
                                false,
                                true),
                        1024,
                        seed)
                .grouped(c.groupSize(), Workload.GroupMode.SEPARATE);
        boolean client = routing.startsWith("client");
        LoadBalancer lb = client
                ? null
                : new LoadBalancer(LbOptions.builder()
                        .backends(urls)
                        .policy(Policy.parse(routing.substring("lb ".length())))
                        .build());
        Topology topology = client ? Topology.HTTP_N : Topology.LB;
        try {
            List<Target> targets = lb == null
                    ? urls.stream()
                            .map(u -> Target.http(new OpenAiClient(http, u, null, true)))
                            .toList()
                    : List.of(Target.http(new OpenAiClient(http, lb.url(), null, true)));
            int n = units * c.groupSize(), conc = Math.max(c.groupSize(), ports * c.concurrencyPerPort());
            long[] cpu0 = MachineLoad.cpuTicks();
            LoadGenerator.Run run = new LoadGenerator(
                            targets,
                            w,
                            LoadGenerator.Options.closed(topology, Connection.KEEP_ALIVE, conc, n)
                                    .withRouting(LoadGenerator.Routing.ROUND_ROBIN))
                    .run();
            long[] cpu1 = MachineLoad.cpuTicks();
            double busy = MachineLoad.busyPct(cpu0, cpu1);
            Summary s = run.summary();
            PrefixUse use = PrefixUse.of(run.records());
            Point p = new Point(
                    hosts,
                    c.ports(),
                    topology,
                    routing,
                    s.completed(),
                    s.failed(),
                    s.throughput().outputTokens().estimate(),
                    s.ttft().mean().estimate(),
                    s.e2el().median().estimate(),
                    use.computedPerSample(),
                    use.hitRate(),
                    busy,
                    busy > 90 || s.failed() > 0);
            log.printf(
                    Locale.ROOT,
                    "  %3d hosts x %d ports  %-17s  %8.0f tok/s  TTFT %7.1f ms  %6.1f prompt tokens computed per "
                            + "sample (cache hit %3.0f %%)  failed %d  this machine's CPU %3.0f %%%s%n",
                    hosts,
                    c.ports(),
                    routing,
                    p.outputThroughput(),
                    p.meanTtftMs(),
                    p.computedPrefillPerSample(),
                    100 * p.cacheHitRate(),
                    p.failed(),
                    busy,
                    p.showsThisMachine() ? " (not a prediction: this point shows this machine)" : "");
            return p;
        } finally {
            if (lb != null) lb.close();
        }
    }
}
