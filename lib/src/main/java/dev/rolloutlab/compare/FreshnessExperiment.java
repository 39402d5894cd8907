package dev.rolloutlab.compare;

import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.EngineOptions;
import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.SamplingParams;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.results.Topology;
import dev.rolloutlab.util.Folders;
import dev.rolloutlab.util.SpanLog;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import okhttp3.OkHttpClient;

/**
 * A simulated training loop: every step generates a batch of GRPO groups, then the trainer produces new weights and
 * hands them to the rollout side with one strategy. The next batch starts at once (a pipelined trainer does not wait),
 * so every token's version lag - trainer version minus the version it was sampled under - shows how fresh each strategy
 * keeps the rollouts, and the trainer's own logprobs of those tokens show what the lag costs.
 */
public final class FreshnessExperiment implements AutoCloseable {
    /**
     * One sampled request (a GRPO group): its versions, how stale its tokens were, and whether it was lost or retried.
     */
    public record Sample(
            Strategy strategy,
            int step,
            long trainerVersion,
            long weightsVersion,
            long lag,
            int tokens,
            double tokenLag,
            boolean mixed,
            int status,
            String backend,
            boolean retried,
            String error) {}

    /** Trainer-vs-rollout logprobs of one scored sample (the first of each group). One row of logprob_gap.csv. */
    public record LogprobGap(
            Strategy strategy,
            int step,
            long trainerVersion,
            long weightsVersion,
            int tokens,
            double meanAbsGap,
            double klK3) {}

    /** One row of freshness.csv. */
    public record StrategySummary(
            Strategy strategy,
            int steps,
            int samples,
            double meanStepMs,
            double meanRolloutMs,
            double meanUpdateMs,
            double meanPropagationMs,
            double predictedPropagationMs,
            double bytesPerUpdate,
            int lost,
            int retried,
            double meanLag,
            long maxLag,
            double tokenWeightedLag,
            int mixedRequests,
            double meanAbsLogprobGap,
            double klK3,
            double tokenWeightedLagCiLow,
            double tokenWeightedLagCiHigh,
            double meanPropagationMsCiLow,
            double meanPropagationMsCiHigh,
            double klK3CiLow,
            double klK3CiHigh) {}

    private final CompareConfig c;
    private final Path model;
    private final Path work;
    private final PrintStream log;
    private final OkHttpClient http;
    private final List<Sample> samples = new ArrayList<>();
    private final List<LogprobGap> gaps = new ArrayList<>();
    private final List<StrategySummary> summaries = new ArrayList<>();
    private final String token = UUID.randomUUID().toString();
    private final RemoteFleet fleet;
    /** The trainer's steps under {@code --timeline}: each batch's generation and each update. */
    private SpanLog trainerSpans = SpanLog.OFF;

    /** Its own servers, once {@link #startServers} began them; null under {@code --fleet} or until then. */
    private FreshnessServers servers;

    /**
     * {@code fleet}: the servers of {@code compare --fleet}, which the HTTP strategies then use; null to start our own.
     */
    public FreshnessExperiment(
            CompareConfig c, Path model, Path resultsDir, PrintStream log, OkHttpClient http, RemoteFleet fleet) {
        this.c = c;
        this.fleet = fleet;
        this.model = model;
        this.work = resultsDir.resolve("freshness-work");
        this.log = log;
        this.http = http;
    }

    public List<Sample> samples() {
        return samples;
    }

    public List<LogprobGap> gaps() {
        return gaps;
    }

    /** One row per strategy that finished: all of them after {@link #run}, those before the failure if it threw. */
    public List<StrategySummary> summaries() {
        return summaries;
    }

    /**
     * Starts the experiment's own servers in the background, so that a run can start them beside its other processes
     * instead of after its grid (their start and warm-up took 20 s of the experiment's 99 s); {@link #run} waits for
     * them. Once only; {@link #close} stops them.
     */
    public FreshnessExperiment startServers() {
        if (servers == null && fleet == null)
            servers = new FreshnessServers(
                    c.strategies(),
                    Math.min(2, c.numServers()), // two servers show propagation across a fleet; more only repeat it
                    model,
                    ports -> new WeightPush(
                            model, work, work.getParent().resolve("logs"), token, http, ports, traceDir()),
                    this::batch);
        return this;
    }

    /** Waits until the servers {@link #startServers} began are up and warm, or failed to start ({@link #run} says). */
    public void awaitServers() {
        if (servers != null) servers.await();
    }

    public List<StrategySummary> run(BooleanSupplier stopped, Runnable strategyDone) {
        List<StrategySummary> out = summaries;
        Path traceDir = traceDir();
        if (traceDir != null) trainerSpans = SpanLog.open(traceDir.resolve("trainer.jsonl"), "client");
        startServers();
        try {
            for (Strategy s : c.strategies()) {
                if (stopped.getAsBoolean()) break;
                log.println("compare: freshness " + s);
                if (s == Strategy.INPROC_SWAP) {
                    out.add(inproc());
                } else if (fleet != null) {
                    out.add(remote(s, fleet.urls(), fleet.model(), fleet.version(), null, (step, v) -> () -> {
                        RemoteFleet.Update u = fleet.update(s);
                        return new WeightPush.Cost(Double.NaN, u.realBytes(), u.predictedMs());
                    }));
                } else if (s == Strategy.RESTART) {
                    try (WeightPush own = servers.restarted()) {
                        out.add(http(s, own, 0));
                    }
                } else {
                    WeightPush push = servers.shared();
                    out.add(http(s, push, push.reset(servers.initial())));
                }
                strategyDone.run();
            }
        } finally {
            close();
            trainerSpans.close();
        }
        return out;
    }

    /** Stops the experiment's own servers, started or starting, and removes its work. */
    @Override
    public void close() {
        if (servers != null) servers.close();
        Folders.deleteQuietly(work);
    }

    private Path traceDir() {
        return c.timeline() ? work.getParent().resolve("trace") : null;
    }

    /** A step's groups: at least one per server, so a fleet's every port samples. */
    private List<GenerationRequest> batch(int step, int servers) {
        List<GenerationRequest> reqs = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(step);
        for (int i = 0; i < Math.max(c.freshnessBatch(), servers); i++) {
            int[] ids = new int[16];
            for (int j = 0; j < ids.length; j++) ids[j] = 10 + r.nextInt(900);
            reqs.add(new GenerationRequest(
                    ids,
                    c.groupSize(),
                    SamplingParams.of(16, 1.0, (long) step * 100 + i).withIgnoreEos(true)));
        }
        return reqs;
    }

    /**
     * In-process: generate, swap in memory, go on. On a simulated fleet, with the fleet's compute and work: an engine
     * per host on its timing model, the same groups per step as the fleet's ports get (random tokens: not scored).
     */
    private StrategySummary inproc() {
        Checkpoint cp = Checkpoint.load(model);
        Trainer trainer = new Trainer(cp, c.changedFraction());
        List<Double> update = new ArrayList<>();
        boolean simulated = c.timing() != null;
        // the same engines as the HTTP legs' serve: without a prefix cache (see Topologies.MAIN_GRID_PREFIX_CACHE)
        EngineOptions eo = (simulated ? EngineOptions.DEFAULT.simulated(c.timing()) : EngineOptions.DEFAULT)
                .withPrefixCache(Topologies.MAIN_GRID_PREFIX_CACHE);
        List<InProcessEngine> engines = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < (simulated ? c.engines(Topology.INPROC_N) : 1); i++)
                engines.add(new InProcessEngine(i == 0 ? cp : Checkpoint.load(model), eo));
            FreshnessTally tally = new FreshnessTally(Strategy.INPROC_SWAP, samples, gaps, trainerSpans);
            for (int step = 0; step < c.freshnessSteps(); step++) {
                List<GenerationRequest> reqs = batch(step, simulated ? c.numServers() : 1);
                List<CompletableFuture<Completion>> fs = new ArrayList<>();
                long g0 = System.nanoTime();
                for (int i = 0; i < reqs.size(); i++) {
                    GenerationRequest r = reqs.get(i);
                    InProcessEngine e = engines.get(i % engines.size());
                    fs.add(CompletableFuture.supplyAsync(() -> e.generate(r), pool));
                }
                CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).join();
                tally.rolledOut(step, g0);
                for (int i = 0; i < reqs.size(); i++) {
                    tally.record(
                            step,
                            step,
                            reqs.get(i),
                            fs.get(i).join(),
                            Topology.INPROC.wire(),
                            false,
                            null,
                            simulated ? null : trainer);
                }
                Map<String, Tensor> next = trainer.step(step + 1, step + 1);
                long u0 = System.nanoTime();
                for (InProcessEngine e : engines) e.updateWeights(next);
                long u1 = System.nanoTime();
                update.add((u1 - u0) / 1e6);
                tally.updated(u0, u1, step + 1);
            }
            return said(tally.summary(c.freshnessSteps(), update, update, List.of(), 0));
        } finally {
            engines.forEach(InProcessEngine::close);
        }
    }

    /** Our own servers, on real weights: the trainer makes each version and the strategy moves it. */
    private StrategySummary http(Strategy strategy, WeightPush push, long base) {
        Trainer trainer = new Trainer(Checkpoint.load(model), c.changedFraction());
        return remote(strategy, push.urls(), "m", base, trainer, (step, v) -> {
            Map<String, Tensor> prev = trainer.tensors(), next = trainer.step(step, v);
            return () -> push.apply(strategy, prev, next, v);
        });
    }

    /**
     * The trainer's side of a step: make version {@code v} now, and say how it reaches the servers (run in the
     * background).
     */
    private interface Publisher {
        Supplier<WeightPush.Cost> next(int step, long v);
    }

    /**
     * A pipelined loop over HTTP servers: each batch is sampled while the previous update is still propagating.
     * {@code trainer} null: not scored.
     */
    private StrategySummary remote(
            Strategy strategy, List<String> urls, String modelName, long base, Trainer trainer, Publisher publisher) {
        List<Double> update = new ArrayList<>(), propagation = new ArrayList<>(), predicted = new ArrayList<>();
        List<Long> bytes = new ArrayList<>();
        CompletableFuture<Void> pending = CompletableFuture.completedFuture(null);
        try (ServerBatches servers = new ServerBatches(urls, modelName);
                ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            FreshnessTally tally = new FreshnessTally(strategy, samples, gaps, trainerSpans);
            for (int step = 0; step < c.freshnessSteps(); step++) {
                long t = base + step;
                List<GenerationRequest> reqs = batch(step, servers.servers());
                long g0 = System.nanoTime();
                List<ServerBatches.Attempt> answers = servers.send(reqs);
                tally.rolledOut(step, g0);
                for (int i = 0; i < reqs.size(); i++) {
                    ServerBatches.Attempt a = answers.get(i);
                    tally.record(step, t, reqs.get(i), a.completion(), a.backend(), a.retried(), a.error(), trainer);
                }
                pending.join(); // at most one update in flight, as a trainer would have
                var move = publisher.next(step + 1, t + 1);
                long u0 = System.nanoTime();
                // the update proceeds in the background while the next batch is already being generated
                pending = CompletableFuture.runAsync(
                        () -> {
                            WeightPush.Cost cost = move.get();
                            long u1 = System.nanoTime();
                            propagation.add((u1 - u0) / 1e6);
                            tally.updated(u0, u1, t + 1);
                            update.add(cost.trainerMs());
                            predicted.add(cost.predictedMs());
                            bytes.add(cost.bytes());
                        },
                        pool);
            }
            pending.join();
            return said(tally.summary(
                    c.freshnessSteps(),
                    update,
                    propagation,
                    predicted,
                    bytes.stream().mapToLong(Long::longValue).average().orElse(Double.NaN)));
        }
    }

    /** A strategy's row, said on the progress log. */
    private StrategySummary said(StrategySummary s) {
        log.printf(
                "  %-18s step %8.1f ms  update %8s ms  all serving after %8.1f ms%s  %7.1f MB/update  lost %d "
                        + "retried %d  token lag %.2f  |Δlogprob| %.2e  KL %.2e%n",
                s.strategy(),
                s.meanStepMs(),
                Double.isNaN(s.meanUpdateMs()) ? "-" : String.format(Locale.ROOT, "%.1f", s.meanUpdateMs()),
                s.meanPropagationMs(),
                Double.isNaN(s.predictedPropagationMs())
                        ? ""
                        : String.format(Locale.ROOT, " (bytes / rate %.1f)", s.predictedPropagationMs()),
                s.bytesPerUpdate() / 1e6,
                s.lost(),
                s.retried(),
                s.tokenWeightedLag(),
                s.meanAbsLogprobGap(),
                s.klK3());
        return s;
    }
}
