package dev.rolloutlab.engine;

import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.Noise;
import dev.rolloutlab.engine.model.VersionConflict;
import dev.rolloutlab.engine.model.Weights;
import dev.rolloutlab.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The reference engine as a library: submitting, aborting and draining requests, and swapping weights in memory
 * ({@link #updateWeights}, {@link #install}); its {@link Scheduler} thread batches the requests and takes a swap at its
 * next step.
 */
public final class InProcessEngine implements Engine {
    private final Checkpoint checkpoint;
    private final EngineOptions options;
    private final AtomicReference<Weights> weights;
    private final LinkedBlockingQueue<Job> incoming = new LinkedBlockingQueue<>();
    /** Every submitted request not yet answered, queued or running: what a drain waits for and abort_all ends. */
    private final Set<CompletableFuture<Completion>> outstanding = ConcurrentHashMap.newKeySet();

    private final Scheduler scheduler;
    private final Thread thread;
    private volatile boolean running = true;
    private final String name;

    public InProcessEngine(Checkpoint checkpoint, EngineOptions options) {
        this(checkpoint, options, "in-process");
    }

    public InProcessEngine(Checkpoint checkpoint, EngineOptions options, String name) {
        this.checkpoint = checkpoint;
        this.options = options;
        this.name = name;
        Weights w0 = options.initialVersion() == checkpoint.weights().version()
                ? checkpoint.weights()
                : checkpoint.weights().relabeled(options.initialVersion());
        this.weights = new AtomicReference<>(w0);
        this.scheduler = new Scheduler(checkpoint, options, weights, incoming, defaultStopIds());
        thread = Thread.ofPlatform().name("engine-" + name).daemon(true).start(scheduler);
    }

    public static InProcessEngine open(Path dir) {
        return new InProcessEngine(Checkpoint.load(dir), EngineOptions.DEFAULT);
    }

    @Override
    public String name() {
        return name;
    }

    public ModelConfig config() {
        return checkpoint.config();
    }

    public Tokenizer tokenizer() {
        return checkpoint.tokenizer();
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    public Weights weights() {
        return weights.get();
    }

    /** What this engine's steps did since it started, up to the sampling of the last one. */
    public StepTotals steps() {
        return scheduler.stepTotals();
    }

    public EngineLoad load() {
        return scheduler.load();
    }

    /** Tells {@code listener} of every step from now on (one listener; {@link StepListener#NONE} stops it). */
    public void onSteps(StepListener listener) {
        scheduler.onSteps(listener);
    }

    /**
     * The keys and values this engine holds at most: every running sequence at the model's full context; what
     * {@link EngineLoad#kvCacheBytes()} is a fraction of.
     */
    public long kvCacheBudgetBytes() {
        ModelConfig c = config();
        return 2L * options.maxRunningSequences() * c.maxPositions() * c.numLayers() * c.kvDim() * Float.BYTES;
    }

    /** Token ids the engine stops on by default: the config's EOS ids and {@code <|im_end|>}. */
    public List<Integer> defaultStopIds() {
        List<Integer> ids = new ArrayList<>(config().eosTokenIds());
        int imEnd = tokenizer().specialId("<|im_end|>");
        if (imEnd >= 0 && !ids.contains(imEnd)) ids.add(imEnd);
        return ids;
    }

    /** Convenience for notebooks: tokenise, generate, wait. */
    public Completion generate(String prompt, SamplingParams params, int n) {
        return generate(new GenerationRequest(tokenizer().encode(prompt), n, params));
    }

    @Override
    public CompletableFuture<Completion> submit(GenerationRequest request, TokenListener listener) {
        Admission.check(request, config());
        if (!running) throw new IllegalStateException("engine " + name + " is closed");
        if (!thread.isAlive()) throw new IllegalStateException("engine " + name + ": its scheduler thread has stopped");
        Job job = new Job(request, listener == null ? TokenListener.NONE : listener);
        outstanding.add(job.future);
        job.future.whenComplete((c, e) -> outstanding.remove(job.future));
        incoming.add(job);
        return job.future;
    }

    /**
     * Installs new values for some or all tensors (same names and shapes) as the next version, effective from the next
     * scheduler step. A rejected update throws and leaves the current weights and version in place.
     */
    public synchronized long updateWeights(Map<String, Tensor> tensors) {
        Weights cur = weights.get();
        Weights next = cur.withUpdates(tensors, cur.version() + 1);
        weights.set(next);
        return next.version();
    }

    /**
     * Installs weights prepared earlier (staged) from the serving ones with {@link Weights#withUpdates}: a pointer
     * swap, refused with {@link VersionConflict} when the serving version is no longer the one they were prepared from.
     */
    public synchronized long install(Weights next) {
        Weights cur = weights.get();
        if (next.version() != cur.version() + 1 || next.config() != cur.config()) {
            throw new VersionConflict("staged weights were prepared as version " + next.version() + " but version "
                    + cur.version() + " is serving");
        }
        weights.set(next);
        return next.version();
    }

    /**
     * The perturb of sglang-jax's weight tooling: adds seeded Gaussian noise times {@code scale} to the first
     * {@code numLeaves} tensors.
     */
    public synchronized PerturbResult perturb(long seed, double scale, Integer numLeaves) {
        long t0 = System.nanoTime();
        Weights cur = weights.get();
        double before = cur.checksum();
        List<Tensor> all = new ArrayList<>(cur.tensors().values());
        int n = numLeaves == null ? all.size() : Math.max(1, Math.min(numLeaves, all.size()));
        Map<String, Tensor> updates = Noise.added(all.subList(0, n), seed, scale);
        long v = updateWeights(updates);
        double after = weights.get().checksum();
        return new PerturbResult(n, before, after, v, (System.nanoTime() - t0) / 1e9);
    }

    /** Whether steps take a {@link StepClock}'s time instead of computing ({@code serve --engine sim}). */
    public boolean simulated() {
        return options.clock() != null;
    }

    /** The requests submitted and not yet answered, at this moment. */
    public List<CompletableFuture<Completion>> outstanding() {
        return List.copyOf(outstanding);
    }

    /**
     * Ends a request at the next scheduler step: its slots are freed and each unfinished sample ends with
     * {@link FinishReason#ABORT}, keeping the tokens generated so far. False when the request already ended.
     */
    public boolean abort(CompletableFuture<Completion> request) {
        if (!(request instanceof Job.Handle h) || request.isDone()) return false;
        h.job.abort = true;
        return true;
    }

    @Override
    public void close() {
        running = false;
        scheduler.stop();
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Job j;
        while ((j = incoming.poll()) != null)
            j.future.completeExceptionally(new IllegalStateException("engine closed"));
    }

    /**
     * Why this engine cannot serve now, or null when it can: its scheduler thread died, or work is queued and no step
     * ended within {@code limit} (a step stuck in a listener or a kernel). {@code /health} answers 503 with it.
     */
    public String stallReason(Duration limit) {
        if (!running) return null;
        if (!thread.isAlive()) return "the engine's scheduler thread has stopped";
        long quiet = scheduler.quietNanos();
        if (!outstanding.isEmpty() && quiet > limit.toNanos()) {
            return "no engine step for " + quiet / 1_000_000_000L + " s with " + outstanding.size()
                    + " request(s) waiting";
        }
        return null;
    }
}
