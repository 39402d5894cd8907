package dev.rolloutlab.results;

import java.util.Arrays;
import java.util.List;

/**
 * One row of {@code summary.csv}: a topology under one connection policy, with vLLM's benchmark names.
 * {@code round} is the round of a repeated run (0: a run without rounds, or the row that pools every round, whose
 * throughput intervals are then across rounds). {@code overheadMsPerRequest} is filled
 * in by {@code compare}.
 */
public record Summary(
        Topology topology,
        Connection connection,
        String workload,
        int round,
        int completed,
        int failed,
        double durationS,
        double requestThroughput,
        double requestThroughputCiLow,
        double requestThroughputCiHigh,
        double outputThroughput,
        double outputThroughputCiLow,
        double outputThroughputCiHigh,
        double meanTtftMs,
        double medianTtftMs,
        double p90TtftMs,
        double p99TtftMs,
        double meanTtftMsCiLow,
        double meanTtftMsCiHigh,
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
        double p50E2elMsCiLow,
        double p50E2elMsCiHigh,
        double p90E2elMs,
        double p99E2elMs,
        double meanE2elMsCiLow,
        double meanE2elMsCiHigh,
        double meanE2elFromDispatchMs,
        double meanConnectMs,
        double goodput,
        double overheadMsPerRequest,
        double overheadMsPerRequestCiLow,
        double overheadMsPerRequestCiHigh,
        boolean incomplete) {

    public static Summary of(
            Topology topology,
            Connection connection,
            String workload,
            List<RequestRecord> records,
            double durationS,
            Slo slo,
            boolean incomplete) {
        List<RequestRecord> ok = records.stream().filter(RequestRecord::ok).toList();
        // requests whose token count is unknown (no usage, no tokenizer) cannot count towards output throughput
        boolean anyCount = ok.stream().anyMatch(r -> r.completionTokens() >= 0);
        double outTokens = anyCount
                ? ok.stream().mapToInt(r -> Math.max(0, r.completionTokens())).sum()
                : Double.NaN;
        double[] ttft = ok.stream()
                .mapToDouble(RequestRecord::ttftMs)
                .filter(d -> !Double.isNaN(d))
                .sorted()
                .toArray();
        double[] tpot = ok.stream()
                .mapToDouble(RequestRecord::tpotMs)
                .filter(d -> !Double.isNaN(d))
                .sorted()
                .toArray();
        double[] e2el = ok.stream().mapToDouble(RequestRecord::e2elMs).sorted().toArray();
        int gaps = 0;
        for (RequestRecord r : ok) gaps += r.itlMs() == null ? 0 : r.itlMs().length;
        double[] itl = new double[gaps];
        int k = 0;
        for (RequestRecord r : ok) if (r.itlMs() != null) for (float g : r.itlMs()) itl[k++] = g;
        Arrays.sort(itl);
        double d = Math.max(durationS, 1e-9);
        long good = ok.stream().filter(slo::met).count();
        return builder(topology, connection, workload)
                .completed(ok.size())
                .failed(records.size() - ok.size())
                .durationS(durationS)
                .requestThroughput(ok.size() / d)
                .outputThroughput(outTokens / d)
                .meanTtftMs(Percentiles.mean(ttft))
                .medianTtftMs(Percentiles.reported(ttft, 50))
                .p90TtftMs(Percentiles.reported(ttft, 90))
                .p99TtftMs(Percentiles.reported(ttft, 99))
                .meanTtftMsCi(Confidence.bootstrapMean(ttft, Percentiles.BOOTSTRAP, 1, 0.95))
                .meanTpotMs(Percentiles.mean(tpot))
                .medianTpotMs(Percentiles.reported(tpot, 50))
                .p90TpotMs(Percentiles.reported(tpot, 90))
                .p99TpotMs(Percentiles.reported(tpot, 99))
                .meanItlMs(Percentiles.mean(itl))
                .medianItlMs(Percentiles.reported(itl, 50))
                .p90ItlMs(Percentiles.reported(itl, 90))
                .p99ItlMs(Percentiles.reported(itl, 99))
                .meanE2elMs(Percentiles.mean(e2el))
                .p50E2elMs(Percentiles.reported(e2el, 50))
                .p50E2elMsCi(
                        Double.isNaN(Percentiles.reported(e2el, 50))
                                ? null
                                : Confidence.bootstrapMedian(e2el, Percentiles.BOOTSTRAP, 3, 0.95))
                .p90E2elMs(Percentiles.reported(e2el, 90))
                .p99E2elMs(Percentiles.reported(e2el, 99))
                .meanE2elMsCi(Confidence.bootstrapMean(e2el, Percentiles.BOOTSTRAP, 2, 0.95))
                .meanE2elFromDispatchMs(ok.stream()
                        .mapToDouble(RequestRecord::e2elFromDispatchMs)
                        .average()
                        .orElse(Double.NaN))
                .meanConnectMs(ok.stream()
                        .mapToDouble(r -> r.connectNs() / 1e6)
                        .average()
                        .orElse(Double.NaN))
                .goodput(good / d)
                .incomplete(incomplete)
                .build();
    }

    /** This row with its overhead over a baseline and that overhead's paired 95 % interval (null: no interval). */
    public Summary withOverhead(double ms, Confidence.Interval ci) {
        return toBuilder().overheadMsPerRequest(ms).overheadMsPerRequestCi(ci).build();
    }

    /** A builder starting from this row, for the values {@code compare} adds later (the overhead). */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public Summary withRound(int r) {
        return toBuilder().round(r).build();
    }

    public static Builder builder(Topology topology, Connection connection, String workload) {
        return new Builder(topology, connection, workload);
    }

    /** Names every value; unset statistics stay NaN (no data), counts 0. */
    public static final class Builder {
        private Topology topology;
        private Connection connection;
        private String workload;
        private int round;
        private int completed;
        private int failed;
        private double durationS = Double.NaN;
        private double requestThroughput = Double.NaN;
        private double requestThroughputCiLow = Double.NaN;
        private double requestThroughputCiHigh = Double.NaN;
        private double outputThroughput = Double.NaN;
        private double outputThroughputCiLow = Double.NaN;
        private double outputThroughputCiHigh = Double.NaN;
        private double meanTtftMs = Double.NaN;
        private double medianTtftMs = Double.NaN;
        private double p90TtftMs = Double.NaN;
        private double p99TtftMs = Double.NaN;
        private double meanTtftMsCiLow = Double.NaN;
        private double meanTtftMsCiHigh = Double.NaN;
        private double meanTpotMs = Double.NaN;
        private double medianTpotMs = Double.NaN;
        private double p90TpotMs = Double.NaN;
        private double p99TpotMs = Double.NaN;
        private double meanItlMs = Double.NaN;
        private double medianItlMs = Double.NaN;
        private double p90ItlMs = Double.NaN;
        private double p99ItlMs = Double.NaN;
        private double meanE2elMs = Double.NaN;
        private double p50E2elMs = Double.NaN;
        private double p50E2elMsCiLow = Double.NaN;
        private double p50E2elMsCiHigh = Double.NaN;
        private double p90E2elMs = Double.NaN;
        private double p99E2elMs = Double.NaN;
        private double meanE2elMsCiLow = Double.NaN;
        private double meanE2elMsCiHigh = Double.NaN;
        private double meanE2elFromDispatchMs = Double.NaN;
        private double meanConnectMs = Double.NaN;
        private double goodput = Double.NaN;
        private double overheadMsPerRequest = Double.NaN;
        private double overheadMsPerRequestCiLow = Double.NaN;
        private double overheadMsPerRequestCiHigh = Double.NaN;
        private boolean incomplete;

        private Builder(Topology topology, Connection connection, String workload) {
            this.topology = topology;
            this.connection = connection;
            this.workload = workload;
        }

        private Builder(Summary s) {
            this.topology = s.topology;
            this.connection = s.connection;
            this.workload = s.workload;
            this.round = s.round;
            this.completed = s.completed;
            this.failed = s.failed;
            this.durationS = s.durationS;
            this.requestThroughput = s.requestThroughput;
            this.requestThroughputCiLow = s.requestThroughputCiLow;
            this.requestThroughputCiHigh = s.requestThroughputCiHigh;
            this.outputThroughput = s.outputThroughput;
            this.outputThroughputCiLow = s.outputThroughputCiLow;
            this.outputThroughputCiHigh = s.outputThroughputCiHigh;
            this.meanTtftMs = s.meanTtftMs;
            this.medianTtftMs = s.medianTtftMs;
            this.p90TtftMs = s.p90TtftMs;
            this.p99TtftMs = s.p99TtftMs;
            this.meanTtftMsCiLow = s.meanTtftMsCiLow;
            this.meanTtftMsCiHigh = s.meanTtftMsCiHigh;
            this.meanTpotMs = s.meanTpotMs;
            this.medianTpotMs = s.medianTpotMs;
            this.p90TpotMs = s.p90TpotMs;
            this.p99TpotMs = s.p99TpotMs;
            this.meanItlMs = s.meanItlMs;
            this.medianItlMs = s.medianItlMs;
            this.p90ItlMs = s.p90ItlMs;
            this.p99ItlMs = s.p99ItlMs;
            this.meanE2elMs = s.meanE2elMs;
            this.p50E2elMs = s.p50E2elMs;
            this.p50E2elMsCiLow = s.p50E2elMsCiLow;
            this.p50E2elMsCiHigh = s.p50E2elMsCiHigh;
            this.p90E2elMs = s.p90E2elMs;
            this.p99E2elMs = s.p99E2elMs;
            this.meanE2elMsCiLow = s.meanE2elMsCiLow;
            this.meanE2elMsCiHigh = s.meanE2elMsCiHigh;
            this.meanE2elFromDispatchMs = s.meanE2elFromDispatchMs;
            this.meanConnectMs = s.meanConnectMs;
            this.goodput = s.goodput;
            this.overheadMsPerRequest = s.overheadMsPerRequest;
            this.overheadMsPerRequestCiLow = s.overheadMsPerRequestCiLow;
            this.overheadMsPerRequestCiHigh = s.overheadMsPerRequestCiHigh;
            this.incomplete = s.incomplete;
        }

        public Builder round(int v) {
            this.round = v;
            return this;
        }

        public Builder completed(int v) {
            this.completed = v;
            return this;
        }

        public Builder failed(int v) {
            this.failed = v;
            return this;
        }

        public Builder durationS(double v) {
            this.durationS = v;
            return this;
        }

        public Builder requestThroughput(double v) {
            this.requestThroughput = v;
            return this;
        }

        public Builder requestThroughputCiLow(double v) {
            this.requestThroughputCiLow = v;
            return this;
        }

        public Builder requestThroughputCiHigh(double v) {
            this.requestThroughputCiHigh = v;
            return this;
        }

        public Builder outputThroughput(double v) {
            this.outputThroughput = v;
            return this;
        }

        public Builder outputThroughputCiLow(double v) {
            this.outputThroughputCiLow = v;
            return this;
        }

        public Builder outputThroughputCiHigh(double v) {
            this.outputThroughputCiHigh = v;
            return this;
        }

        public Builder meanTtftMs(double v) {
            this.meanTtftMs = v;
            return this;
        }

        public Builder medianTtftMs(double v) {
            this.medianTtftMs = v;
            return this;
        }

        public Builder p90TtftMs(double v) {
            this.p90TtftMs = v;
            return this;
        }

        public Builder p99TtftMs(double v) {
            this.p99TtftMs = v;
            return this;
        }

        public Builder meanTtftMsCiLow(double v) {
            this.meanTtftMsCiLow = v;
            return this;
        }

        public Builder meanTtftMsCiHigh(double v) {
            this.meanTtftMsCiHigh = v;
            return this;
        }

        public Builder meanTpotMs(double v) {
            this.meanTpotMs = v;
            return this;
        }

        public Builder medianTpotMs(double v) {
            this.medianTpotMs = v;
            return this;
        }

        public Builder p90TpotMs(double v) {
            this.p90TpotMs = v;
            return this;
        }

        public Builder p99TpotMs(double v) {
            this.p99TpotMs = v;
            return this;
        }

        public Builder meanItlMs(double v) {
            this.meanItlMs = v;
            return this;
        }

        public Builder medianItlMs(double v) {
            this.medianItlMs = v;
            return this;
        }

        public Builder p90ItlMs(double v) {
            this.p90ItlMs = v;
            return this;
        }

        public Builder p99ItlMs(double v) {
            this.p99ItlMs = v;
            return this;
        }

        public Builder meanE2elMs(double v) {
            this.meanE2elMs = v;
            return this;
        }

        public Builder p50E2elMs(double v) {
            this.p50E2elMs = v;
            return this;
        }

        public Builder p50E2elMsCiLow(double v) {
            this.p50E2elMsCiLow = v;
            return this;
        }

        public Builder p50E2elMsCiHigh(double v) {
            this.p50E2elMsCiHigh = v;
            return this;
        }

        public Builder p90E2elMs(double v) {
            this.p90E2elMs = v;
            return this;
        }

        public Builder p99E2elMs(double v) {
            this.p99E2elMs = v;
            return this;
        }

        public Builder meanE2elMsCiLow(double v) {
            this.meanE2elMsCiLow = v;
            return this;
        }

        public Builder meanE2elMsCiHigh(double v) {
            this.meanE2elMsCiHigh = v;
            return this;
        }

        public Builder meanE2elFromDispatchMs(double v) {
            this.meanE2elFromDispatchMs = v;
            return this;
        }

        public Builder meanConnectMs(double v) {
            this.meanConnectMs = v;
            return this;
        }

        public Builder goodput(double v) {
            this.goodput = v;
            return this;
        }

        public Builder overheadMsPerRequest(double v) {
            this.overheadMsPerRequest = v;
            return this;
        }

        public Builder overheadMsPerRequestCi(Confidence.Interval i) {
            if (i != null) {
                overheadMsPerRequestCiLow = i.low();
                overheadMsPerRequestCiHigh = i.high();
            }
            return this;
        }

        public Builder incomplete(boolean v) {
            this.incomplete = v;
            return this;
        }
        /** Both ends of a 95 % interval; null leaves them NaN. */
        public Builder meanTtftMsCi(Confidence.Interval i) {
            if (i != null) {
                meanTtftMsCiLow = i.low();
                meanTtftMsCiHigh = i.high();
            }
            return this;
        }

        public Builder meanE2elMsCi(Confidence.Interval i) {
            if (i != null) {
                meanE2elMsCiLow = i.low();
                meanE2elMsCiHigh = i.high();
            }
            return this;
        }

        public Builder p50E2elMsCi(Confidence.Interval i) {
            if (i != null) {
                p50E2elMsCiLow = i.low();
                p50E2elMsCiHigh = i.high();
            }
            return this;
        }

        public Builder requestThroughputCi(Confidence.Interval i) {
            if (i != null) {
                requestThroughputCiLow = i.low();
                requestThroughputCiHigh = i.high();
            }
            return this;
        }

        public Builder outputThroughputCi(Confidence.Interval i) {
            if (i != null) {
                outputThroughputCiLow = i.low();
                outputThroughputCiHigh = i.high();
            }
            return this;
        }

        public Summary build() {
            return new Summary(
                    topology,
                    connection,
                    workload,
                    round,
                    completed,
                    failed,
                    durationS,
                    requestThroughput,
                    requestThroughputCiLow,
                    requestThroughputCiHigh,
                    outputThroughput,
                    outputThroughputCiLow,
                    outputThroughputCiHigh,
                    meanTtftMs,
                    medianTtftMs,
                    p90TtftMs,
                    p99TtftMs,
                    meanTtftMsCiLow,
                    meanTtftMsCiHigh,
                    meanTpotMs,
                    medianTpotMs,
                    p90TpotMs,
                    p99TpotMs,
                    meanItlMs,
                    medianItlMs,
                    p90ItlMs,
                    p99ItlMs,
                    meanE2elMs,
                    p50E2elMs,
                    p50E2elMsCiLow,
                    p50E2elMsCiHigh,
                    p90E2elMs,
                    p99E2elMs,
                    meanE2elMsCiLow,
                    meanE2elMsCiHigh,
                    meanE2elFromDispatchMs,
                    meanConnectMs,
                    goodput,
                    overheadMsPerRequest,
                    overheadMsPerRequestCiLow,
                    overheadMsPerRequestCiHigh,
                    incomplete);
        }
    }
}
