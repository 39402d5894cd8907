package dev.rolloutlab.engine;

import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.ClockForward;
import dev.rolloutlab.engine.model.Forward;
import dev.rolloutlab.engine.model.KvCache;
import dev.rolloutlab.engine.model.KvPool;
import dev.rolloutlab.engine.model.PrefixCache;
import dev.rolloutlab.engine.model.Transformer;
import dev.rolloutlab.engine.model.Weights;
import dev.rolloutlab.engine.tokenizer.Tokenizer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Continuous batching on the engine's one scheduler thread: between steps it admits waiting requests within the step's
 * budgets and ends cancelled and aborted ones; each step is one batched forward pass over every running sequence plus
 * the prompts admitted in it, then sampling and emitting. It reads the serving weights once a step, so a swap takes
 * effect at the next one. Everything here is touched by that thread alone, except what it publishes.
 */
final class Scheduler implements Runnable {
    /** Finished sequences' caches kept for the next requests of their size, at most this many bytes. */
    private static final long KV_POOL_BYTES =
            Math.min(128L << 20, Runtime.getRuntime().maxMemory() / 32);

    private final ModelConfig config;
    private final Tokenizer tokenizer;
    private final EngineOptions options;
    private final AtomicReference<Weights> weights;
    private final LinkedBlockingQueue<Job> incoming;
    private final Forward model;
    private final Sampler sampler;
    private final TokenRate rate = new TokenRate();
    private final Emitter emitter;
    private final SplittableRandom seeds = new SplittableRandom();
    /** Keys and values of prefixes computed before, shared across requests. */
    private final PrefixSharing prefix;

    private final KvPool kvPool;

    private final List<Seq> active = new ArrayList<>();
    private final ArrayDeque<Job> waiting = new ArrayDeque<>();
    private int[] rowTokens = new int[64], rowPos = new int[64], logitRows = new int[64];
    private KvCache[] rowCache = new KvCache[64];
    private float[] logits = new float[0];

    private volatile boolean running = true;
    private volatile long progressNs = System.nanoTime(); // the last step's end, or the last idle poll
    private volatile EngineLoad load;
    private volatile StepListener steps = StepListener.NONE;
    private volatile StepTotals stepTotals = StepTotals.NONE;

    Scheduler(
            Checkpoint checkpoint,
            EngineOptions options,
            AtomicReference<Weights> weights,
            LinkedBlockingQueue<Job> incoming,
            List<Integer> stopIds) {
        this.config = checkpoint.config();
        this.tokenizer = checkpoint.tokenizer();
        this.options = options;
        this.weights = weights;
        this.incoming = incoming;
        this.model = options.clock() == null ? new Transformer(config) : new ClockForward(options.clock(), stopIds);
        this.sampler = new Sampler(config.vocabSize());
        this.emitter = new Emitter(config, sampler, rate, stopIds);
        long cap = options.prefixCacheCap();
        this.prefix = new PrefixSharing(
                cap > 0 ? new PrefixCache(config.numLayers(), config.kvDim(), cap, options.clock() == null) : null);
        this.kvPool = new KvPool(config.numLayers(), config.kvDim(), KV_POOL_BYTES);
        this.load = new EngineLoad(0, 0, 0, 0, weights.get().version(), PrefixCache.Stats.NONE);
    }

    EngineLoad load() {
        return load;
    }

    StepTotals stepTotals() {
        return stepTotals;
    }

    void onSteps(StepListener listener) {
        steps = listener;
    }

    /** Nanoseconds since the last step ended or the thread last found nothing to do. */
    long quietNanos() {
        return System.nanoTime() - progressNs;
    }

    /** Ends the loop after the step under way; the thread's interrupt ends an idle wait. */
    void stop() {
        running = false;
    }

    @Override
    public void run() {
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
            j.seqs[0] = new Seq(j, 0, cache, len, seed, tokenizer.new Decoder(true), w.version());
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
        int vocab = config.vocabSize();
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
                j.seqs[i] =
                        new Seq(j, i, s0.cache.fork(s0.pos), s0.pos, j.seed, tokenizer.new Decoder(true), s0.kvVersion);
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
