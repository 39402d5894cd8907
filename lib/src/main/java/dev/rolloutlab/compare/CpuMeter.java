package dev.rolloutlab.compare;

import dev.rolloutlab.process.CompilerCpu;
import dev.rolloutlab.process.MachineLoad;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Topology;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU per request of one leg, per process on its path: this JVM (the client, and in-process also the engine), the serve
 * JVM and the balancer's JVM. Read before and after the leg; a process not on the path reads NaN. The same readings
 * carry the machine's load average, stolen CPU and what every local JVM's JIT compilers used during the leg (on or off
 * its path, they share its cores), so a leg run on a busy machine can be told apart.
 */
final class CpuMeter {
    /** One row of cpu.csv. */
    record Point(
            Topology topology,
            Connection connection,
            String workload,
            int round,
            int requests,
            double clientCpuMsPerRequest,
            double serverCpuMsPerRequest,
            double lbCpuMsPerRequest,
            double loadAverageBefore,
            double loadAverageAfter,
            double stealMs,
            double compilerCpuMs) {}

    private final long serverPid, lbPid;
    private final LegCpu cpu0;
    private final double load0, steal0;
    private final CompilerCpu compilers;

    /**
     * Starts measuring; a pid of -1 means that process is not on this leg's path. {@code localJvms}: every local JVM
     * whose compilers count.
     */
    CpuMeter(long serverPid, long lbPid, List<Long> localJvms) {
        this.serverPid = serverPid;
        this.lbPid = lbPid;
        this.compilers = new CompilerCpu(localJvms);
        this.cpu0 = read();
        this.load0 = MachineLoad.loadAverage();
        this.steal0 = MachineLoad.stealMs();
    }

    private LegCpu read() {
        return LegCpu.read(serverPid, lbPid < 0 ? List.of() : List.of(lbPid));
    }

    Point stop(Topology topology, Connection connection, String workload, int round, int requests) {
        double n = Math.max(1, requests);
        LegCpu used = read().minus(cpu0);
        return new Point(
                topology,
                connection,
                workload,
                round,
                requests,
                used.client() / n,
                serverPid < 0 ? Double.NaN : used.serve() / n,
                lbPid < 0 ? Double.NaN : used.lb() / n,
                load0,
                MachineLoad.loadAverage(),
                MachineLoad.stealMs() - steal0,
                compilers.sinceLastMs());
    }

    /**
     * One round-0 row per leg and cell: CPU per request over every round's requests; load and steal averaged over the
     * rounds.
     */
    static List<Point> pooled(List<Point> rounds) {
        Map<String, List<Point>> by = new LinkedHashMap<>();
        for (Point p : rounds)
            by.computeIfAbsent(p.topology() + "|" + p.connection() + "|" + p.workload(), k -> new ArrayList<>())
                    .add(p);
        List<Point> out = new ArrayList<>();
        by.values().forEach(ps -> {
            int n = ps.stream().mapToInt(Point::requests).sum();
            double d = Math.max(1, n);
            Point f = ps.get(0);
            out.add(new Point(
                    f.topology(),
                    f.connection(),
                    f.workload(),
                    0,
                    n,
                    ps.stream()
                                    .mapToDouble(p -> p.clientCpuMsPerRequest() * Math.max(1, p.requests()))
                                    .sum()
                            / d,
                    ps.stream()
                                    .mapToDouble(p -> p.serverCpuMsPerRequest() * Math.max(1, p.requests()))
                                    .sum()
                            / d,
                    ps.stream()
                                    .mapToDouble(p -> p.lbCpuMsPerRequest() * Math.max(1, p.requests()))
                                    .sum()
                            / d,
                    ps.stream().mapToDouble(Point::loadAverageBefore).average().orElse(Double.NaN),
                    ps.stream().mapToDouble(Point::loadAverageAfter).average().orElse(Double.NaN),
                    ps.stream().mapToDouble(Point::stealMs).sum(),
                    ps.stream().mapToDouble(Point::compilerCpuMs).sum()));
        });
        return out;
    }
}
