package dev.rolloutlab.engine;

import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.ClockForward;
import dev.rolloutlab.engine.model.Forward;
import dev.rolloutlab.engine.model.KvCache;
import dev.rolloutlab.engine.model.KvPool;
import dev.rolloutlab.engine.model.Noise;
import dev.rolloutlab.engine.model.PrefixCache;
import dev.rolloutlab.engine.model.Transformer;
import dev.rolloutlab.engine.model.VersionConflict;
import dev.rolloutlab.engine.model.Weights;
import dev.rolloutlab.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The reference engine as a library: one scheduler thread runs continuous batching over the model. Requests join and
 * leave between steps; each step is one batched forward pass over every running sequence plus the prompts admitted in
 * it. Weights are swapped between steps by {@link #updateWeights}.
 */
public final class InProcessEngine implements Engine {
    private final Checkpoint checkpoint;
    private final EngineOptions options;
    private final AtomicReference<Weights> weights;
    private final LinkedBlockingQueue<Job> incoming = new LinkedBlockingQueue<>();
    /** Every submitted request not yet answered, queued or running: what a drain waits for and abort_all ends. */
    private final Set<CompletableFuture<Completion>> outstanding = ConcurrentHashMap.newKeySet();

    private final Thread thread;
    private final Forward model;
    private final Sampler sampler;
    private final Emitter emitter;
    private final SplittableRandom seeds = new SplittableRandom();
    private volatile boolean running = true;
    private volatile EngineLoad load;
    private volatile StepListener steps = StepListener.NONE;
    private volatile StepTotals stepTotals = StepTotals.NONE;
    private final String name;
    /** Keys and values of prefixes computed before, shared across requests. */
    private final PrefixSharing prefix;
    /** Finished sequences' caches, reused for the next requests of their size (up to {@link #KV_POOL_BYTES}). */
    private final KvPool kvPool;

    private static final long KV_POOL_BYTES =
            Math.min(128L << 20, Runtime.getRuntime().maxMemory() / 32);

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
        this.model = options.clock() == null
                ? new Transformer(checkpoint.config())
                : new ClockForward(options.clock(), defaultStopIds());
        this.sampler = new Sampler(checkpoint.config().vocabSize());
        this.emitter = new Emitter(checkpoint.config(), sampler, rate, defaultStopIds());
        long cap = options.prefixCacheCap();
        this.prefix = new PrefixSharing(
                cap > 0
                        ? new PrefixCache(
                                checkpoint.config().numLayers(),
                                checkpoint.config().kvDim(),
                                cap,
                                options.clock() == null)
                        : null);
        this.kvPool =
                new KvPool(checkpoint.config().numLayers(), checkpoint.config().kvDim(), KV_POOL_BYTES);
        this.load = new EngineLoad(0, 0, 0, 0, w0.version(), PrefixCache.Stats.NONE);
        thread = Thread.ofPlatform().name("engine-" + name).daemon(true).start(this::loop);
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
        return stepTotals;
    }

    public EngineLoad load() {
        return load;
    }

    /** Tells {@code listener} of every step from now on (one listener; {@link StepListener#NONE} stops it). */
    public void onSteps(StepListener listener) {
        steps = listener;
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

    // ---- scheduler ----

    private final List<Seq> active = new ArrayList<>();
    private final ArrayDeque<Job> waiting = new ArrayDeque<>();
    private int[] rowTokens = new int[64], rowPos = new int[64], logitRows = new int[64];
    private KvCache[] rowCache = new KvCache[64];
    private float[] logits = new float[0];

    private final TokenRate rate = new TokenRate();

    private volatile long progressNs = System.nanoTime(); // the last step's end, or the last idle poll
    /**
     * Why this engine cannot serve now, or null when it can: its scheduler thread died, or work is queued and no step
     * ended within {@code limit} (a step stuck in a listener or a kernel). {@code /health} answers 503 with it.
     */
    public String stallReason(Duration limit) {
        if (!running) return null;
        if (!thread.isAlive()) return "the engine's scheduler thread has stopped";
        long quiet = System.nanoTime() - progressNs;
        if (!outstanding.isEmpty() && quiet > limit.toNanos()) {
            return "no engine step for " + quiet / 1_000_000_000L + " s with " + outstanding.size()
                    + " request(s) waiting";
        }
        return null;
    }

    private void loop() {
        while (running) {
            progressNs = System.nanoTime();
            try {
                if (active.isEmpty() && waiting.isEmpty()) {
                    Job j = incoming.poll(100, TimeUnit.MILLISECONDS);
                    if (j == null) {
                        publishLoad();
                        continue;
                    }
                    waiting.add(j);
                    if (options.clock() != null) options.clock().awaken();
                }
                incoming.drainTo(waiting);
                step();
            } catch (InterruptedException e) {
                break;
            } catch (Throwable t) {
                failAll(t);
            }
        }
        failAll(new IllegalStateException("engine closed"));
    }

    private void failAll(Throwable t) {
        for (Seq s : active) s.job.future.completeExceptionally(t);
        for (Job j : waiting) j.future.completeExceptionally(t);
        active.clear();
        waiting.clear();
    }

    private void step() {
        long startNs = System.nanoTime();
        // a caller that cancelled (a client that went away) frees its sequences at the next step; an aborted request
        // ends there too, but keeps and returns what it generated
        active.removeIf(s -> s.job.future.isCancelled());
        for (Iterator<Seq> it = active.iterator(); it.hasNext(); ) {
            Seq s = it.next();
            if (s.job.abort) {
                it.remove();
                finish(s, FinishReason.ABORT);
            }
        }
        Weights w = weights.get();
        int n = 0;
        // decode rows first: one per running sequence
        for (Seq s : active) {
            if (s.kvVersion != w.version()) s.kvVersion = -1; // its keys and values now mix two versions
            n = grow(n + 1) - 1;
            rowTokens[n] = s.last();
            rowPos[n] = s.pos;
            rowCache[n] = s.cache;
            logitRows[n] = n;
            n++;
        }
        int nLogits = n, decodeRows = n;
        List<Job> admitted = new ArrayList<>();
        int prefill = 0, seqs = active.size();
        prefix.newStep();
        for (Iterator<Job> it = waiting.iterator(); it.hasNext(); ) {
            Job j = it.next();
            if (j.future.isDone()) { // cancelled by the caller before it started
                it.remove();
                continue;
            }
            if (j.abort) {
                it.remove();
                j.abortBeforeStart();
                continue;
            }
            int[] prompt = j.request.promptTokens();
            int len = prompt.length, cached = prefix.cached(j, w.version());
            if (prefix.waitsForPending(j, cached)) continue;
            boolean first = admitted.isEmpty() && active.isEmpty();
            if (!first
                    && (seqs + j.request.n() > options.maxRunningSequences()
                            || prefill + len - cached > options.maxPrefillTokensPerStep())) break;
            it.remove();
            admitted.add(j);
            j.admittedNs = System.nanoTime();
            seqs += j.request.n();
            prefill += len - cached;
            KvCache cache = kvPool.take(len + Math.min(j.request.params().maxTokens(), 256));
            j.cachedTokens = prefix.restore(j, w.version(), cache);
            long seed = j.request.params().seed() != null ? j.request.params().seed() : seeds.nextLong();
            j.seed = seed;
            j.seqs = new Seq[j.request.n()];
            j.seqs[0] = new Seq(j, 0, cache, len, seed, tokenizer().new Decoder(true), w.version());
            j.unfinished = j.request.n();
            n = grow(n + len - j.cachedTokens) - (len - j.cachedTokens);
            for (int p = j.cachedTokens; p < len; p++) {
                rowTokens[n] = prompt[p];
                rowPos[n] = p;
                rowCache[n] = cache;
                n++;
            }
            logitRows[nLogits++] = n - 1;
        }
        if (n == 0) return;
        int vocab = config().vocabSize();
        if (logits.length < nLogits * vocab) logits = new float[nLogits * vocab];
        model.forward(w, n, decodeRows, rowTokens, rowPos, rowCache, logitRows, nLogits, logits);
        if (!options.testStepDelay().isZero()) waitTestStepDelay();
        for (Job j : admitted) prefix.keepPrompt(j, w.version(), j.seqs[0].cache);

        int li = 0;
        List<Seq> stepSeqs = new ArrayList<>(active.size() + seqs);
        int[] stepRows = new int[seqs];
        for (Seq s : active) {
            s.pos++;
            stepRows[stepSeqs.size()] = li++;
            stepSeqs.add(s);
        }
        for (Job j : admitted) {
            int row = li++;
            Seq s0 = j.seqs[0];
            // the other samples share the prompt's prefill: copy its keys and values instead of recomputing them
            for (int i = 1; i < j.seqs.length; i++)
                j.seqs[i] = new Seq(
                        j, i, s0.cache.fork(s0.pos), s0.pos, j.seed, tokenizer().new Decoder(true), s0.kvVersion);
            for (Seq s : j.seqs) {
                stepRows[stepSeqs.size()] = row;
                stepSeqs.add(s);
            }
        }
        Sampler.Pick[] picks = sampler.pickAll(logits, stepSeqs, stepRows, model.uniform());
        // counted before any token goes out, so a caller whose request this step finishes sees the step counted
        StepTotals t = stepTotals;
        stepTotals = new StepTotals(
                t.steps() + 1,
                t.decodeRows() + decodeRows,
                t.prefillTokens() + prefill,
                t.busyNanos() + System.nanoTime() - startNs);
        for (Job j : admitted)
            j.prefilledNs = System.nanoTime(); // before emit: a 1-token request finishes in its prefill step
        active.clear();
        boolean finishing = false;
        for (int i = 0; i < picks.length; i++) {
            Seq s = stepSeqs.get(i);
            FinishReason f = emitter.emit(s, logits, stepRows[i], picks[i], w.version());
            if (f != null) {
                if (!finishing && options.clock() != null) options.clock().finishing(); // once a step, however many
                finishing = true;
                finish(s, f);
            }
            if (s.finish == null) active.add(s);
        }
        publishLoad();
        steps.onStep(startNs, System.nanoTime(), decodeRows, prefill);
    }

    /** The whole test delay, never less: a park may return early. */
    private void waitTestStepDelay() {
        long until = System.nanoTime() + options.testStepDelay().toNanos();
        for (long left; (left = until - System.nanoTime()) > 0; ) LockSupport.parkNanos(left);
    }

    private int grow(int need) {
        if (rowTokens.length < need) {
            int cap = Math.max(need, rowTokens.length * 2);
            rowTokens = Arrays.copyOf(rowTokens, cap);
            rowPos = Arrays.copyOf(rowPos, cap);
            rowCache = Arrays.copyOf(rowCache, cap);
            logitRows = Arrays.copyOf(logitRows, cap);
        }
        return need;
    }

    private void finish(Seq s, FinishReason reason) {
        s.finish = reason;
        prefix.keepAnswer(s);
        kvPool.give(s.cache); // its prompt was kept at its prefill and its samples forked then: nothing reads it now
        s.job.listener.onFinish(s.index, reason);
        if (--s.job.unfinished == 0) s.job.complete();
    }

    private void publishLoad() {
        long kv = 0;
        for (Seq s : active) kv += s.cache.bytes();
        load = new EngineLoad(
                active.size(),
                waiting.size() + incoming.size(),
                rate.perSecond(),
                kv,
                weights.get().version(),
                prefix.stats());
    }
}
