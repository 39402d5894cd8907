package dev.rolloutlab.compare;

import dev.rolloutlab.bench.LoadGenerator;
import dev.rolloutlab.results.RequestRecord;
import dev.rolloutlab.results.RunFolder;
import dev.rolloutlab.results.ServerMetric;
import dev.rolloutlab.results.Summary;
import dev.rolloutlab.results.SweepPoint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the grid's rounds measured, kept as it comes, and its files: requests, summaries round by round and pooled, the
 * sweep, CPU per request and the servers' /metrics. A stopped run writes what it has.
 */
final class GridTally {
    /** The files' rows, and the first rounds left out of the pooled rows because they were still warming. */
    record Written(List<Summary> summaries, List<Pooling.WarmingRound> warming) {}

    private final List<RequestRecord> records = new ArrayList<>();
    private final Map<String, List<RequestRecord>> byCell = new HashMap<>();
    private final List<Summary> perRound = new ArrayList<>();
    private final List<SweepPoint> sweep = new ArrayList<>();
    private final List<CpuMeter.Point> cpu = new ArrayList<>();
    private final List<ServerMetric> serverMetrics = new ArrayList<>();

    /** One leg's cell in round {@code round}; returns its summary. */
    Summary cell(int round, Topologies.Leg leg, String workload, LoadGenerator.Run run, CpuMeter.Point used) {
        List<RequestRecord> recs =
                run.records().stream().map(x -> x.withRound(round)).toList();
        records.addAll(recs);
        byCell.computeIfAbsent(Pooling.key(leg.topology(), leg.connection(), workload), k -> new ArrayList<>())
                .addAll(recs);
        Summary s = run.summary().withRound(round);
        perRound.add(s);
        cpu.add(used);
        return s;
    }

    void sweep(SweepPoint p) {
        sweep.add(p);
    }

    void serverMetrics(List<ServerMetric> rows) {
        serverMetrics.addAll(rows);
    }

    /** The rounds so far, pooled per cell. */
    Pooling.Pooled pooled() {
        return Pooling.pool(perRound, byCell);
    }

    /** Writes every file of the grid into {@code results}. */
    Written write(RunFolder results, int concurrency) {
        // a first round still warming is shown round by round but not pooled, nor paired (run.json says which)
        Pooling.Pooled pooled = pooled();
        List<Summary> summaries = new ArrayList<>(perRound);
        summaries.addAll(pooled.rows());
        summaries = List.copyOf(Pooling.withOverheads(summaries, pooled.counted(), concurrency));
        List<SweepPoint> sw = new ArrayList<>(sweep);
        sw.addAll(Pooling.aggregateSweep(sweep));
        results.writeRequests(records);
        results.writeSummaries(summaries);
        results.writeSweep(SweepPoint.class, sw);
        List<CpuMeter.Point> cpuRows = new ArrayList<>(cpu);
        cpuRows.addAll(CpuMeter.pooled(cpu));
        results.writeTable("cpu.csv", CpuMeter.Point.class, cpuRows);
        if (!serverMetrics.isEmpty()) results.writeTable(ServerMetric.FILE, ServerMetric.class, serverMetrics);
        return new Written(summaries, pooled.warming());
    }
}
