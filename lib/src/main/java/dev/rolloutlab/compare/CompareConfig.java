package dev.rolloutlab.compare;

import dev.rolloutlab.engine.model.StepClock;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.results.Topology;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code compare} runs: the model, the topologies, the prompt x output length grid, the load, how many rounds, and
 * the weight-freshness experiment. {@link #defaults(boolean)} is the embedded default (and {@code --quick});
 * {@link #full()} the larger grid {@code --full} adds; both are builders, so a flag changes a field before the defaults
 * that depend on where the run happens are settled.
 *
 * @param requestsPerLeg requests per leg and cell in one round, at least; a cheap cell gets more (see cellSeconds)
 * @param cellSeconds time each leg should spend on a cell per round, from the warm-up's rate: cheap cells then get many
 *     requests, which is what narrows their intervals (0: always requestsPerLeg)
 * @param maxRequestsPerLeg the most requests a leg sends on a cell per round: {@code --max-requests}, by default
 *     {@value Builder#MOST_PER_CELL_SECOND} a second of cellSeconds, so a longer cell is longer on the cheapest cells
 *     too
 * @param jitWarmup requests of the cheapest cell each leg sends first, unrecorded, so the JIT has compiled the HTTP,
 *     JSON and engine paths before anything is measured (a few hundred are not enough)
 * @param warmupMaxSec the longest the first legs on the processes (this JVM, serve, the LB), all at once, keep warming
 *     after {@code jitWarmup} until their throughput stops rising ({@link dev.rolloutlab.bench.SteadyState}; 0:
 *     jitWarmup only)
 * @param rounds rounds every cell runs, topologies interleaved in an order that rotates each round
 * @param untilCiPct when &gt; 0, rounds are added (up to {@code maxRounds}) until every headline interval's half-width
 *     is below this percentage of its estimate
 * @param fleet {@code sim:HxP} when the HTTP legs run on simulated hosts, else null
 * @param timing the clock of the in-process engines on a simulated fleet: the fleet's timing model, each engine on
 *     cores of its own, so the baseline has the fleet's compute without HTTP; in the zero-compute control, a clock
 *     whose steps take no time
 * @param simProfile the profile compare's own serve runs its simulated engines on ({@code serve --engine sim
 *     --sim-profile}), in the zero-compute control; null: the real engine
 */
public record CompareConfig(
        Path model,
        String shape,
        List<Topology> topologies,
        int numServers,
        int concurrency,
        int requestsPerLeg,
        double cellSeconds,
        int maxRequestsPerLeg,
        int warmupPerCell,
        int jitWarmup,
        double warmupMaxSec,
        List<Integer> promptLens,
        List<Integer> outputLens,
        List<Connection> connections,
        List<Integer> sweepConcurrency,
        int sweepRequests,
        List<Strategy> strategies,
        int freshnessSteps,
        int freshnessBatch,
        int groupSize,
        double changedFraction,
        List<String> externalTargets,
        CompletionRequest.Endpoint endpoint,
        int rounds,
        double untilCiPct,
        int maxRounds,
        String fleet,
        StepClock timing,
        String simProfile,
        String grid,
        boolean scrapeMetrics,
        boolean timeline) {

    /** The most requests a leg may send on a cell per round: each keeps its per-request record until the report. */
    static final int MOST_REQUESTS = 100_000;

    public CompareConfig {
        if (cellSeconds < 0 || cellSeconds > 600)
            throw new IllegalArgumentException("--cell-sec must be in [0, 600], got " + cellSeconds);
        if (maxRequestsPerLeg > MOST_REQUESTS)
            throw new IllegalArgumentException(
                    "--max-requests must be at most " + MOST_REQUESTS + ", got " + maxRequestsPerLeg);
        if (maxRequestsPerLeg < requestsPerLeg)
            throw new IllegalArgumentException("--max-requests (" + maxRequestsPerLeg
                    + ") is below the least requests a cell gets (" + requestsPerLeg + "): raise it");
        if (!(warmupMaxSec >= 0 && warmupMaxSec <= 600))
            throw new IllegalArgumentException("--warmup-max-sec must be in [0, 600], got " + warmupMaxSec);
        if (rounds < 1 || rounds > 100)
            throw new IllegalArgumentException("--rounds must be in [1, 100], got " + rounds);
        if (untilCiPct < 0 || untilCiPct > 100)
            throw new IllegalArgumentException("--until-ci must be a percentage in (0, 100], got " + untilCiPct);
        if (maxRounds < rounds)
            throw new IllegalArgumentException(
                    "--max-rounds (" + maxRounds + ") must be at least --rounds (" + rounds + ")");
        int maxServers = fleet == null ? 64 : 4096; // simulated engines cost no compute
        if (numServers < 1 || numServers > maxServers)
            throw new IllegalArgumentException("--num-servers must be in [1, " + maxServers + "], got " + numServers);
        if (concurrency < 1 || concurrency > 1024)
            throw new IllegalArgumentException("--concurrency must be in [1, 1024], got " + concurrency);
        for (List<Integer> lens : List.of(promptLens, outputLens)) {
            if (lens.isEmpty() || lens.stream().anyMatch(n -> n < 1 || n > 8192)) {
                throw new IllegalArgumentException((lens == promptLens ? "--prompt-lens" : "--output-lens")
                        + " must list token counts in [1, 8192], got " + lens);
            }
        }
        if (!(changedFraction > 0 && changedFraction <= 1))
            throw new IllegalArgumentException("--changed-fraction must be in (0, 1], got " + changedFraction);
        if (freshnessSteps < 1 || freshnessSteps > 1000)
            throw new IllegalArgumentException("--freshness-steps must be in [1, 1000], got " + freshnessSteps);
        if (fleet != null && model != null)
            throw new IllegalArgumentException("--fleet serves a simulated model; --model does not apply");
        if (fleet != null && !shape.equals("tiny"))
            throw new IllegalArgumentException("--fleet serves a simulated tiny model; --shape does not apply");
        if (fleet != null
                && numServers != fleetHosts(fleet) * Integer.parseInt(fleet.substring(fleet.indexOf('x') + 1)))
            throw new IllegalArgumentException("--num-servers does not apply to --fleet: " + fleet + " sets the ports");
        for (Strategy s : strategies) {
            boolean runs = fleet != null
                    ? s.onFleet()
                    : externalTargets.isEmpty() ? s.onOwnServers() : s.inProcess(); // foreign servers take no pushes
            if (!runs) {
                List<String> ok = (fleet != null
                                ? Strategy.fleet()
                                : externalTargets.isEmpty() ? Strategy.ownServers() : List.of(Strategy.INPROC_SWAP))
                        .stream().map(Strategy::wire).toList();
                throw new IllegalArgumentException("--strategies: " + s + " does not run "
                        + (fleet != null
                                ? "on a --fleet"
                                : externalTargets.isEmpty()
                                        ? "on compare's own servers"
                                        : "on --targets (we cannot push our weights into them)")
                        + "; choose from " + ok + " or none");
            }
        }
        topologies = List.copyOf(topologies);
        strategies = List.copyOf(strategies);
        externalTargets = List.copyOf(externalTargets);
    }

    /**
     * The {@code quick} grid (tiny model, under a minute or two) or the default one (small model in bfloat16, about
     * 4½-6 minutes on 2 cores with the steady warm-ups; the budget is 6).
     */
    public static Builder defaults(boolean quick) {
        return quick
                ? new Builder("tiny", "quick", 2, 16, 48, List.of(8, 128), List.of(1, 16), List.of(1, 2, 8), 8, 3, 4, 2)
                        .rounds(2)
                        .jitWarmup(1500)
                        .warmupMaxSec(0)
                        .cellSeconds(0.25)
                : new Builder(
                                "small",
                                "default",
                                4,
                                16,
                                4,
                                List.of(8, 128),
                                List.of(1, 32),
                                List.of(1, 16),
                                12,
                                3,
                                8,
                                4)
                        .jitWarmup(300);
    }

    /** {@code --full}: the default plus a longer prompt and output, more requests, a deeper sweep and five rounds. */
    public static Builder full() {
        return new Builder(
                        "small",
                        "full",
                        4,
                        40,
                        8,
                        List.of(8, 128, 512),
                        List.of(1, 32, 128),
                        List.of(1, 4, 16, 32),
                        32,
                        5,
                        8,
                        4)
                .rounds(5);
    }

    public boolean quick() {
        return grid.equals("quick");
    }

    /**
     * Engines behind a topology: one for inproc and http1, N for the rest; on a fleet one per host (its ports share
     * it).
     */
    public int engines(Topology topology) {
        if (topology.oneEngine()) return 1;
        return fleet == null ? numServers : fleetHosts(fleet);
    }

    private static int fleetHosts(String fleet) {
        return Integer.parseInt(fleet.substring("sim:".length(), fleet.indexOf('x')));
    }

    /** The settings as run.json's config records them. */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", "compare");
        m.put("grid", grid);
        m.put("quick", quick());
        m.put("model", model != null ? model.toString() : "default " + shape);
        m.put("topologies", topologies);
        m.put("num_servers", numServers);
        m.put("concurrency", concurrency);
        m.put("requests_per_leg", requestsPerLeg);
        m.put("cell_seconds", cellSeconds);
        m.put("max_requests_per_leg", maxRequestsPerLeg);
        m.put("rounds", rounds);
        m.put("until_ci_pct", untilCiPct);
        m.put("max_rounds", maxRounds);
        m.put("warmup_per_cell", warmupPerCell);
        m.put("jit_warmup", jitWarmup);
        m.put("steady_warmup_max_s", warmupMaxSec);
        m.put("sweep_requests", sweepRequests);
        m.put("prompt_lens", promptLens);
        m.put("output_lens", outputLens);
        m.put("connections", connections);
        m.put("sweep_concurrency", sweepConcurrency);
        m.put("strategies", strategies);
        m.put("freshness_steps", freshnessSteps);
        m.put("freshness_batch", freshnessBatch);
        m.put("group_size", groupSize);
        m.put("changed_fraction", changedFraction);
        if (fleet != null) m.put("fleet", Map.of("spec", fleet, "timing_model", timing));
        if (simProfile != null) m.put("control", Map.of("sim_profile", simProfile, "timing_model", timing));
        m.put("external_targets", externalTargets);
        m.put("endpoint_flag", endpoint == null ? "auto" : endpoint.wire());
        m.put("scrape_metrics", scrapeMetrics);
        m.put("timeline", timeline);
        return m;
    }

    /** Names every field of a {@link CompareConfig}; built ones are checked. */
    public static final class Builder {
        private Path model;
        private String shape, grid;
        private CompletionRequest.Endpoint endpoint; // null: auto
        private List<Topology> topologies = List.of(Topology.values());
        private List<Connection> connections = List.of(Connection.KEEP_ALIVE, Connection.CLOSE);
        private List<Strategy> strategies; // null: every strategy that runs where this run's servers are
        private List<String> externalTargets = List.of();
        private double cellSeconds = 1.0, warmupMaxSec = 60;
        private Integer maxRequests; // null: derived from cellSeconds
        private int numServers,
                concurrency = 4,
                requestsPerLeg,
                warmupPerCell,
                jitWarmup = 400,
                sweepRequests,
                freshnessSteps,
                freshnessBatch,
                groupSize,
                rounds = 3,
                maxRounds = 10;
        private List<Integer> promptLens, outputLens, sweepConcurrency;
        private double untilCiPct;
        private double changedFraction = 0.045;
        private String fleet;
        private String simProfile;
        private StepClock timing;
        private boolean scrapeMetrics = true;
        private boolean timeline;

        private Builder(
                String shape,
                String grid,
                int numServers,
                int requestsPerLeg,
                int warmupPerCell,
                List<Integer> promptLens,
                List<Integer> outputLens,
                List<Integer> sweepConcurrency,
                int sweepRequests,
                int freshnessSteps,
                int freshnessBatch,
                int groupSize) {
            this.shape = shape;
            this.grid = grid;
            this.numServers = numServers;
            this.requestsPerLeg = requestsPerLeg;
            this.warmupPerCell = warmupPerCell;
            this.promptLens = promptLens;
            this.outputLens = outputLens;
            this.sweepConcurrency = sweepConcurrency;
            this.sweepRequests = sweepRequests;
            this.freshnessSteps = freshnessSteps;
            this.freshnessBatch = freshnessBatch;
            this.groupSize = groupSize;
        }

        public Builder model(Path p) {
            model = p;
            return this;
        }

        public Builder shape(String s) {
            shape = s;
            return this;
        }

        public Builder topologies(List<Topology> t) {
            topologies = t;
            return this;
        }

        /** Sample the servers' {@code /metrics} once a second during each HTTP cell into metrics.csv (default on). */
        public Builder scrapeMetrics(boolean on) {
            scrapeMetrics = on;
            return this;
        }

        /** Keep every process's spans under the run's {@code trace/}, for report's trace.json (default off). */
        public Builder timeline(boolean on) {
            timeline = on;
            return this;
        }

        public Builder numServers(int n) {
            numServers = n;
            return this;
        }

        public Builder concurrency(int n) {
            concurrency = n;
            return this;
        }

        public Builder strategies(List<Strategy> s) {
            strategies = s;
            return this;
        }

        public Builder externalTargets(List<String> t) {
            externalTargets = t;
            return this;
        }

        public Builder endpoint(CompletionRequest.Endpoint e) {
            endpoint = e;
            return this;
        }

        public Builder promptLens(List<Integer> l) {
            promptLens = l;
            return this;
        }

        public Builder outputLens(List<Integer> l) {
            outputLens = l;
            return this;
        }

        public Builder rounds(int r) {
            rounds = r;
            return this;
        }

        /**
         * Add rounds until every headline interval is narrower than {@code pct} % of its estimate, up to {@code max}
         * rounds.
         */
        public Builder untilCi(double pct, int max) {
            if (!(pct > 0))
                throw new IllegalArgumentException("--until-ci must be a percentage above 0, e.g. --until-ci 5");
            untilCiPct = pct;
            maxRounds = max;
            return this;
        }

        public Builder cellSeconds(double s) {
            cellSeconds = s;
            return this;
        }

        public Builder maxRequestsPerLeg(int n) {
            maxRequests = n;
            return this;
        }

        public Builder warmupMaxSec(double s) {
            warmupMaxSec = s;
            return this;
        }

        public Builder jitWarmup(int n) {
            jitWarmup = n;
            return this;
        }

        /**
         * The fraction of weight elements one simulated training step changes (default 4.5 %, as measured in RL
         * fine-tuning runs).
         */
        public Builder changedFraction(double f) {
            changedFraction = f;
            return this;
        }

        public Builder freshnessSteps(int n) {
            freshnessSteps = n;
            return this;
        }

        /**
         * HTTP legs on simulated hosts ({@code sim:HxP}); {@code t} is the in-process engines' clock (see
         * {@code timing}).
         */
        public Builder fleet(int hosts, int ports, StepClock t) {
            fleet = "sim:" + hosts + "x" + ports;
            timing = t;
            // a fleet's defaults, before the flags that override them: every port of every host, ids inside the
            // simulated vocabulary, and no long JIT warm-up (simulated servers are small C1 JVMs: it buys nothing)
            numServers = hosts * ports;
            shape = "tiny";
            jitWarmup = 200;
            warmupMaxSec = 0;
            topologies = List.of(Topology.INPROC_N, Topology.HTTP_N, Topology.LB);
            return this;
        }

        /**
         * The zero-compute control of the run this builder made: the same grid, topologies and connections on engines
         * whose steps take no time — {@code clock} in this JVM, {@code serve --engine sim --sim-profile profile} over
         * HTTP — and no freshness experiment or concurrency sweep, so what is left of each request is the path around
         * the engine. Own servers only.
         */
        public Builder control(StepClock clock, String profile) {
            if (fleet != null || !externalTargets.isEmpty())
                throw new IllegalStateException("the zero-compute control runs on compare's own servers only");
            timing = clock;
            simProfile = profile;
            strategies = List.of();
            sweepConcurrency = List.of();
            // the control keeps the run's steady warm-up: its serve and lb JVMs are the run's own, warm from the real
            // legs, but at zero compute they carry twenty times the requests per second, and its clock engines are
            // new code; in new JVMs its tax fell round by round (2.0, 1.6, 0.9 ms) without it. The trend rule ends
            // the warm-up once the windows are flat.
            untilCiPct = 0;
            // the steady warm-up runs the cheapest cell only; the others' paths (longer prompts, 32 streamed chunks)
            // kept warming through the first rounds (one cell's tax read 5.7 ms in the first slices, 3.2 after), and
            // a zero-compute cell costs milliseconds: a round's worth of each warms them
            warmupPerCell = Math.max(warmupPerCell, maxRequestsPerLeg());
            scrapeMetrics = false; // engines that compute nothing have no queue or KV to show
            timeline = false; // its cells would share the real run's span files
            grid = grid + ", zero-compute control";
            return this;
        }

        /**
         * Requests a second of {@code --cell-sec} a cell gets at most: a fixed cap of 256 cut the sim's honesty check's
         * 5 s single-token cells to 1 s (at 250 requests a second).
         */
        static final int MOST_PER_CELL_SECOND = 256;

        private int maxRequestsPerLeg() {
            if (maxRequests != null) return maxRequests;
            return (int) Math.max(MOST_PER_CELL_SECOND, Math.ceil(MOST_PER_CELL_SECOND * cellSeconds));
        }

        public CompareConfig build() {
            List<Strategy> strategies = this.strategies != null
                    ? this.strategies
                    : fleet != null
                            ? Strategy.fleet()
                            : externalTargets.isEmpty() ? Strategy.ownServers() : List.of(Strategy.INPROC_SWAP);
            return new CompareConfig(
                    model,
                    shape,
                    topologies,
                    numServers,
                    concurrency,
                    requestsPerLeg,
                    cellSeconds,
                    maxRequestsPerLeg(),
                    warmupPerCell,
                    jitWarmup,
                    warmupMaxSec,
                    promptLens,
                    outputLens,
                    connections,
                    sweepConcurrency,
                    sweepRequests,
                    strategies,
                    freshnessSteps,
                    freshnessBatch,
                    groupSize,
                    changedFraction,
                    externalTargets,
                    endpoint,
                    rounds,
                    untilCiPct,
                    untilCiPct > 0 ? maxRounds : Math.max(maxRounds, rounds),
                    fleet,
                    timing,
                    simProfile,
                    grid,
                    scrapeMetrics,
                    timeline);
        }
    }
}
