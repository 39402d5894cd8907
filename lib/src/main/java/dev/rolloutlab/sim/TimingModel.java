package dev.rolloutlab.sim;

import dev.rolloutlab.engine.model.StepClock;
import dev.rolloutlab.util.Await;
import java.util.Objects;

/**
 * The step time of a simulated engine ({@code serve --engine sim}): a step that admits prompts costs {@code a +
 * b·prompt_tokens}, a decode step over a batch costs {@code c + d·batch + e·context} (context: the mean tokens per
 * sequence so far), and both add up when one step does both, as in continuous batching. Times in ms.
 *
 * @param maxBatch sequences decoded together at most; more wait for a slot
 * @param contention how the engines of one process slow each other ({@link Contention#NONE}: one engine per host)
 * @param stepCv the coefficient of variation of a one-row decode step's time while the engines of a process contend (0:
 *     a clock); a step of other length varies by it over the square root of its length ratio ({@link #cvOf}). Our
 *     engine under load is far from a clock (time between tokens varied by 28 %, alone by 15 %), and engines that keep
 *     exact time fall into lockstep under closed-loop load: they prefill together and never beside each other's decodes
 */
public record TimingModel(
        double a, double b, double c, double d, double e, int maxBatch, Contention contention, double stepCv)
        implements StepClock {
    public TimingModel(double a, double b, double c, double d, double e, int maxBatch) {
        this(a, b, c, d, e, maxBatch, Contention.NONE, 0);
    }

    public TimingModel {
        Objects.requireNonNull(contention, "contention");
        if (!(stepCv >= 0 && stepCv <= 3))
            throw new IllegalArgumentException("step_cv must be in [0, 3], got " + stepCv);
        for (double x : new double[] {a, b, c, d, e}) {
            if (!(x >= 0) || x > 60_000)
                throw new IllegalArgumentException("timing model coefficients must be in [0, 60000] ms, got " + x);
        }
        if (maxBatch < 1 || maxBatch > 4096)
            throw new IllegalArgumentException("max_batch must be in [1, 4096], got " + maxBatch);
    }

    /** The same engine with a host of its own: no other engine contends for its cores. */
    public TimingModel alone() {
        return with(Contention.NONE);
    }

    /** The same engine with another contention. */
    public TimingModel with(Contention k) {
        return new TimingModel(a, b, c, d, e, maxBatch, k, stepCv);
    }

    /** The same engine whose steps vary by {@code cv}. */
    public TimingModel withStepCv(double cv) {
        return new TimingModel(a, b, c, d, e, maxBatch, contention, cv);
    }

    /** The share of the host a step demands while it runs beside others ({@link Contention#share}). */
    double share(int prefillTokens, int decodeRows, double meanContext) {
        return contention.share(
                prefillTokens > 0 ? a : 0,
                prefillTokens > 0 ? b * prefillTokens : 0,
                decodeRows > 0 ? c + d * decodeRows + e * meanContext : 0);
    }

    /** The share of the host a prefill of {@code promptTokens} alone demands (0: the engines do not contend). */
    public double prefillShare(int promptTokens) {
        return contention.share(a, b * promptTokens, 0);
    }

    /**
     * Waits out one step from {@code startNanos}: alone, one park for the whole step (it overshoots by the timer slack,
     * about 0.05-0.1 ms here; parking in short slices woke 64 simulated engines thousands of times a second and spent
     * the cores in the kernel); beside the process's other engines, on their shared cores.
     */
    @Override
    public void step(long startNanos, int prefillTokens, int decodeRows, double meanContext) {
        long solo = stepNanos(prefillTokens, decodeRows, meanContext);
        if (contention.contends()) {
            SharedCores.PROCESS.run(
                    solo - (System.nanoTime() - startNanos),
                    prefillTokens > 0 ? (long) (contention.serverWorkMs() * 1e6) : 0,
                    prefillTokens > 0,
                    share(prefillTokens, decodeRows, meanContext),
                    contention.prefillBesideDecodes(),
                    cvOf(solo));
            return;
        }
        Await.nanoTime(startNanos + solo);
    }

    /** A woken engine may wait for a core while the process's other engines' steps hold them ({@link CoreWaits}). */
    @Override
    public void awaken() {
        if (contention.waits().wokenWaits()) SharedCores.PROCESS.awaken(contention.waits());
    }

    /** An engine that has just finished a request may wait for a core before it ends ({@link CoreWaits#finishing}). */
    @Override
    public void finishing() {
        CoreWait w = contention.waits().finishing();
        if (w.waits()) SharedCores.PROCESS.finishing(w);
    }

    /**
     * How much a step of {@code soloNanos} varies beside other steps: {@code stepCv} at a one-row decode step, less for
     * longer ones. What varies a step is the cores being taken from it in slices; over a longer step more slices
     * average out, so its spread grows as the square root of its length and its cv falls as one over it. Our host's
     * 128-token prefills under load lay within 4 % of their mean at the median while its decode steps varied by three
     * quarters: one cv for both had put a simulated long prefill's median a quarter below its mean.
     */
    double cvOf(long soloNanos) {
        long decodeStep = stepNanos(0, 1, 0);
        return decodeStep <= 0 || soloNanos <= decodeStep
                ? stepCv
                : stepCv * Math.sqrt((double) decodeStep / soloNanos);
    }

    /** The modelled time of one scheduler step alone, in nanoseconds. */
    public long stepNanos(int prefillTokens, int decodeRows, double meanContext) {
        double ms = 0;
        if (prefillTokens > 0) ms += a + b * prefillTokens;
        if (decodeRows > 0) ms += c + d * decodeRows + e * meanContext;
        return (long) (ms * 1e6);
    }
}
