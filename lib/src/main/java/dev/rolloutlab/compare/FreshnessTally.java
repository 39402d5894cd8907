package dev.rolloutlab.compare;

import dev.rolloutlab.compare.FreshnessExperiment.LogprobGap;
import dev.rolloutlab.compare.FreshnessExperiment.Sample;
import dev.rolloutlab.compare.FreshnessExperiment.StrategySummary;
import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Strategy;
import dev.rolloutlab.util.SpanLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;
import java.util.function.ToIntFunction;

/**
 * One strategy's training loop as it runs, and the row it makes: each request's staleness, the trainer's logprob gap on
 * its first sample, each step's rollout and update on the trainer's track. Samples go straight into the experiment's
 * lists, so a strategy that fails halfway keeps what it sampled.
 */
final class FreshnessTally {
    private final Strategy strategy;
    private final List<Sample> samples;
    private final List<LogprobGap> gaps;
    private final int samplesFrom, gapsFrom;
    private final SpanLog spans;
    /** A step's wall time is what a trainer waits for, generation or the update: counted from here. */
    private final long loopStart = System.nanoTime();
    /** Each step's batch generation (ms): Tunix's rollout time. */
    private final List<Double> rollout = new ArrayList<>();

    FreshnessTally(Strategy strategy, List<Sample> samples, List<LogprobGap> gaps, SpanLog spans) {
        this.strategy = strategy;
        this.samples = samples;
        this.gaps = gaps;
        this.samplesFrom = samples.size();
        this.gapsFrom = gaps.size();
        this.spans = spans;
    }

    /** A step's batch came back: its generation since {@code g0}, counted and on the trainer's track. */
    void rolledOut(int step, long g0) {
        long now = System.nanoTime();
        rollout.add((now - g0) / 1e6);
        spans.span(track(), "rollout", g0, now, null, Map.of("step", step));
    }

    /** Version {@code version} reached the rollout side between {@code u0} and {@code u1}. */
    void updated(long u0, long u1, long version) {
        spans.span(track(), "update", u0, u1, null, Map.of("version", version));
    }

    /**
     * One request's staleness against trainer version {@code t} and, for its first sample, the trainer-vs-rollout
     * logprob gap ({@code trainer} null: not scored). {@code done} null: lost, with {@code error}.
     */
    void record(
            int step,
            long t,
            GenerationRequest r,
            Completion done,
            String backend,
            boolean retried,
            String error,
            Trainer trainer) {
        if (done == null) {
            samples.add(new Sample(strategy, step, t, -1, -1, 0, Double.NaN, false, -1, backend, retried, error));
            return;
        }
        long lagSum = 0;
        int tokens = 0;
        for (dev.rolloutlab.engine.Sample s : done.samples()) {
            for (long v : s.versions()) lagSum += t - v;
            tokens += s.versions().length;
        }
        long min = done.minVersion();
        samples.add(new Sample(
                strategy,
                step,
                t,
                min,
                t - min,
                tokens,
                tokens == 0 ? Double.NaN : (double) lagSum / tokens,
                done.maxVersion() != min,
                200,
                backend,
                retried,
                null));
        if (trainer == null) return;
        dev.rolloutlab.engine.Sample first = Trainer.first(done);
        Trainer.Gap g = trainer.gap(r.promptTokens(), first);
        gaps.add(new LogprobGap(strategy, step, t, first.minVersion(), g.tokens(), g.meanAbs(), g.klK3()));
    }

    /**
     * The strategy's row after {@code steps} steps: the trainer's update time, the propagation until every server
     * serves a version, the bytes / rate prediction, each per update, and bytes per update.
     */
    StrategySummary summary(
            int steps, List<Double> update, List<Double> propagation, List<Double> predicted, double bytes) {
        double stepMs = (System.nanoTime() - loopStart) / 1e6 / steps;
        List<Sample> mine = samples.subList(samplesFrom, samples.size());
        List<LogprobGap> myGaps = gaps.subList(gapsFrom, gaps.size());
        int lost = (int) mine.stream()
                .filter(s -> s.status() != 200 || s.error() != null)
                .count();
        int retried = (int) mine.stream().filter(Sample::retried).count();
        long maxLag = mine.stream().mapToLong(Sample::lag).max().orElse(0);
        int mixed = (int) mine.stream().filter(Sample::mixed).count(); // a request whose samples span two versions
        // the first batch is sampled before any update can be in flight, so it is fresh by construction: the lag and
        // its cost are what the loop settles at, from the second step on (with one step, that step)
        int from = steps > 1 ? 1 : 0;
        List<Sample> settled = mine.stream().filter(s -> s.step() >= from).toList();
        List<LogprobGap> settledGaps =
                myGaps.stream().filter(g -> g.step() >= from).toList();
        double meanLag = settled.stream()
                .filter(s -> s.lag() >= 0)
                .mapToLong(Sample::lag)
                .average()
                .orElse(Double.NaN);
        double tokenLag = settled.stream()
                        .filter(s -> s.tokens() > 0)
                        .mapToDouble(s -> s.tokenLag() * s.tokens())
                        .sum()
                / Math.max(1, settled.stream().mapToInt(Sample::tokens).sum());
        double gap = weighted(settledGaps, LogprobGap::meanAbsGap), kl = weighted(settledGaps, LogprobGap::klK3);
        // intervals across the steps (each step one batch under one update), not the samples: the samples of a step
        // share its update's timing, so they are not independent; none of the three can be negative
        Confidence.Interval
                lagCi =
                        Confidence.tMean(perStep(settled, Sample::step, Sample::tokens, Sample::tokenLag), 0.95)
                                .atLeast(0),
                propagationCi =
                        Confidence.tMean(
                                        propagation.stream()
                                                .mapToDouble(Double::doubleValue)
                                                .toArray(),
                                        0.95)
                                .atLeast(0),
                klCi =
                        Confidence.tMean(
                                        perStep(settledGaps, LogprobGap::step, LogprobGap::tokens, LogprobGap::klK3),
                                        0.95)
                                .atLeast(0);
        return new StrategySummary(
                strategy,
                steps,
                mine.size(),
                stepMs,
                mean(rollout),
                mean(update),
                mean(propagation),
                mean(predicted),
                bytes,
                lost,
                retried,
                meanLag,
                maxLag,
                tokenLag,
                mixed,
                gap,
                kl,
                lagCi.low(),
                lagCi.high(),
                propagationCi.low(),
                propagationCi.high(),
                klCi.low(),
                klCi.high());
    }

    private String track() {
        return "trainer " + strategy.wire();
    }

    /** The token-weighted mean of {@code value} in each step, in step order (steps without tokens are left out). */
    private static <T> double[] perStep(
            List<T> rows, ToIntFunction<T> step, ToIntFunction<T> tokens, ToDoubleFunction<T> value) {
        Map<Integer, double[]> sums = new TreeMap<>();
        for (T r : rows) {
            int n = tokens.applyAsInt(r);
            double v = value.applyAsDouble(r);
            if (n <= 0 || Double.isNaN(v)) continue;
            double[] a = sums.computeIfAbsent(step.applyAsInt(r), k -> new double[2]);
            a[0] += v * n;
            a[1] += n;
        }
        return sums.values().stream().mapToDouble(a -> a[0] / a[1]).toArray();
    }

    /** Token-weighted mean of a per-sample figure. */
    private static double weighted(List<LogprobGap> gs, ToDoubleFunction<LogprobGap> f) {
        double sum = 0;
        int n = 0;
        for (LogprobGap g : gs) {
            if (g.tokens() == 0) continue;
            sum += f.applyAsDouble(g) * g.tokens();
            n += g.tokens();
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    private static double mean(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
