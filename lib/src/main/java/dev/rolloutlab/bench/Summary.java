package dev.rolloutlab.bench;

import java.util.Arrays;
import java.util.List;

/**
 * One row of {@code summary.csv}: a topology under one connection policy, with vLLM's benchmark names.
 * {@code overheadMsPerRequest} and {@code meanStalenessVersions} are filled in by {@code compare}.
 */
public record Summary(
        String topology,
        String connection,
        String workload,
        int completed,
        int failed,
        double durationS,
        double requestThroughput,
        double outputThroughput,
        double meanTtftMs,
        double medianTtftMs,
        double p90TtftMs,
        double p99TtftMs,
        double meanTpotMs,
        double medianTpotMs,
        double p90TpotMs,
        double p99TpotMs,
        double meanItlMs,
        double medianItlMs,
        double p90ItlMs,
        double p99ItlMs,
        double meanE2elMs,
        double p50E2elMs,
        double p90E2elMs,
        double p99E2elMs,
        double meanE2elFromDispatchMs,
        double meanConnectMs,
        double goodput,
        double overheadMsPerRequest,
        double meanStalenessVersions,
        boolean incomplete) {

    /** SLOs for goodput: a request counts when its TTFT and TPOT are both within the limits (NaN = no limit). */
    public record Slo(double ttftMs, double tpotMs) {
        public static final Slo NONE = new Slo(Double.NaN, Double.NaN);

        public static Slo parse(String spec) {
            double ttft = Double.NaN, tpot = Double.NaN;
            for (String part : spec.split(",")) {
                String[] kv = part.split(":");
                if (kv.length != 2) throw new IllegalArgumentException("--goodput " + spec + ": expected ttft:MS,tpot:MS");
                double v;
                try {
                    v = Double.parseDouble(kv[1].trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--goodput " + spec + ": '" + kv[1] + "' is not a number of milliseconds (e.g. ttft:500,tpot:50)");
                }
                if (!(v > 0) || Double.isInfinite(v)) throw new IllegalArgumentException("--goodput " + spec + ": " + kv[0] + " must be a positive number of ms");
                switch (kv[0].trim()) {
                    case "ttft" -> ttft = v;
                    case "tpot" -> tpot = v;
                    default -> throw new IllegalArgumentException("--goodput " + spec + ": unknown metric " + kv[0] + " (ttft or tpot)");
                }
            }
            return new Slo(ttft, tpot);
        }

        boolean met(RequestRecord r) {
            return (Double.isNaN(ttftMs) || r.ttftMs() <= ttftMs) && (Double.isNaN(tpotMs) || Double.isNaN(r.tpotMs()) || r.tpotMs() <= tpotMs);
        }
    }

    public static Summary of(String topology, String connection, String workload, List<RequestRecord> records,
                             double durationS, Slo slo, boolean incomplete) {
        List<RequestRecord> ok = records.stream().filter(RequestRecord::ok).toList();
        int outTokens = ok.stream().mapToInt(RequestRecord::completionTokens).sum();
        double[] ttft = ok.stream().mapToDouble(RequestRecord::ttftMs).filter(d -> !Double.isNaN(d)).sorted().toArray();
        double[] tpot = ok.stream().mapToDouble(RequestRecord::tpotMs).filter(d -> !Double.isNaN(d)).sorted().toArray();
        double[] e2el = ok.stream().mapToDouble(RequestRecord::e2elMs).sorted().toArray();
        int gaps = 0;
        for (RequestRecord r : ok) gaps += r.itlMs() == null ? 0 : r.itlMs().length;
        double[] itl = new double[gaps];
        int k = 0;
        for (RequestRecord r : ok) if (r.itlMs() != null) for (float g : r.itlMs()) itl[k++] = g;
        Arrays.sort(itl);
        double d = Math.max(durationS, 1e-9);
        long good = ok.stream().filter(slo::met).count();
        return new Summary(topology, connection, workload, ok.size(), records.size() - ok.size(), durationS,
                ok.size() / d, outTokens / d,
                mean(ttft), pct(ttft, 50), pct(ttft, 90), pct(ttft, 99),
                mean(tpot), pct(tpot, 50), pct(tpot, 90), pct(tpot, 99),
                mean(itl), pct(itl, 50), pct(itl, 90), pct(itl, 99),
                mean(e2el), pct(e2el, 50), pct(e2el, 90), pct(e2el, 99),
                ok.stream().mapToDouble(RequestRecord::e2elFromDispatchMs).average().orElse(Double.NaN),
                ok.stream().mapToDouble(r -> r.connectNs() / 1e6).average().orElse(Double.NaN),
                good / d, Double.NaN, Double.NaN, incomplete);
    }

    public Summary withOverhead(double ms) {
        return new Summary(topology, connection, workload, completed, failed, durationS, requestThroughput, outputThroughput,
                meanTtftMs, medianTtftMs, p90TtftMs, p99TtftMs, meanTpotMs, medianTpotMs, p90TpotMs, p99TpotMs,
                meanItlMs, medianItlMs, p90ItlMs, p99ItlMs, meanE2elMs, p50E2elMs, p90E2elMs, p99E2elMs,
                meanE2elFromDispatchMs, meanConnectMs, goodput, ms, meanStalenessVersions, incomplete);
    }

    public Summary withStaleness(double versions) {
        return new Summary(topology, connection, workload, completed, failed, durationS, requestThroughput, outputThroughput,
                meanTtftMs, medianTtftMs, p90TtftMs, p99TtftMs, meanTpotMs, medianTpotMs, p90TpotMs, p99TpotMs,
                meanItlMs, medianItlMs, p90ItlMs, p99ItlMs, meanE2elMs, p50E2elMs, p90E2elMs, p99E2elMs,
                meanE2elFromDispatchMs, meanConnectMs, goodput, overheadMsPerRequest, versions, incomplete);
    }

    static double mean(double[] sorted) {
        if (sorted.length == 0) return Double.NaN;
        double s = 0;
        for (double v : sorted) s += v;
        return s / sorted.length;
    }

    /** Linear-interpolated percentile of a sorted array (numpy's default), NaN when empty. */
    static double pct(double[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        double pos = p / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
