package dev.rolloutlab.compare;

import dev.rolloutlab.results.Confidence;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * One leg of a shared-prefix run over its counted runs (one a round; the reference's, two or more a round): each
 * figure's mean with its 95 % t-interval over them (the cache hit rate and the share routed by the balancer's guess:
 * means; where the engines' time went: sequences decoded per engine step, and the steps' wall time per output token,
 * each over all the leg's runs). A row of {@code prefix.csv}.
 */
public record PrefixFigure(
        String leg,
        String routing,
        int runs,
        double outputTokPerSec,
        double outputTokPerSecLow,
        double outputTokPerSecHigh,
        double outputTokPerCpuSec,
        double outputTokPerCpuSecLow,
        double outputTokPerCpuSecHigh,
        double computedPrefillPerSample,
        double computedPrefillLow,
        double computedPrefillHigh,
        double cacheHitRate,
        double routedByGuess,
        double meanTtftMs,
        double meanTtftLow,
        double meanTtftHigh,
        double meanE2elMs,
        double decodeRowsPerStep,
        double stepMsPerOutputToken) {

    /**
     * Each leg's figures over its counted runs, in {@code legOrder}; a leg stopped before its first counted run has
     * none.
     */
    static List<PrefixFigure> of(List<String> legOrder, List<PrefixRun> rounds) {
        Map<String, List<PrefixRun>> byLeg = new LinkedHashMap<>();
        for (String leg : legOrder) byLeg.put(leg, new ArrayList<>());
        for (PrefixRun r : rounds)
            if (r.counted())
                byLeg.computeIfAbsent(r.leg(), k -> new ArrayList<>()).add(r);
        List<PrefixFigure> out = new ArrayList<>();
        for (List<PrefixRun> rs : byLeg.values()) {
            if (rs.isEmpty()) continue;
            var tok = Confidence.tMean(column(rs, PrefixRun::outputTokPerSec), 0.95);
            var perCpu = Confidence.tMean(column(rs, PrefixRun::outputTokPerCpuSec), 0.95);
            var pre = Confidence.tMean(column(rs, PrefixRun::computedPrefillPerSample), 0.95);
            var ttft = Confidence.tMean(column(rs, PrefixRun::meanTtftMs), 0.95);
            out.add(new PrefixFigure(
                    rs.get(0).leg(),
                    rs.get(0).routing(),
                    rs.size(),
                    tok.estimate(),
                    tok.low(),
                    tok.high(),
                    perCpu.estimate(),
                    perCpu.low(),
                    perCpu.high(),
                    pre.estimate(),
                    pre.low(),
                    pre.high(),
                    Confidence.mean(column(rs, PrefixRun::cacheHitRate)),
                    Confidence.mean(Arrays.stream(column(rs, PrefixRun::routedByGuess))
                            .filter(x -> !Double.isNaN(x))
                            .toArray()), // a run whose balancer did not answer /metrics has none
                    ttft.estimate(),
                    ttft.low(),
                    ttft.high(),
                    Confidence.mean(column(rs, PrefixRun::meanE2elMs)),
                    sum(rs, PrefixRun::decodeRows) / sum(rs, PrefixRun::engineSteps),
                    sum(rs, PrefixRun::engineStepMs) / sum(rs, PrefixRun::outputTokens)));
        }
        return out;
    }

    private static double sum(List<PrefixRun> rs, ToDoubleFunction<PrefixRun> f) {
        return rs.stream().mapToDouble(f).sum();
    }

    private static double[] column(List<PrefixRun> rs, ToDoubleFunction<PrefixRun> f) {
        return rs.stream().mapToDouble(f).toArray();
    }
}
