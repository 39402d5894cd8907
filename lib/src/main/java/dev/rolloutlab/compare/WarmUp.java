package dev.rolloutlab.compare;

import dev.rolloutlab.bench.LoadGenerator;
import dev.rolloutlab.bench.SteadyState;
import dev.rolloutlab.bench.Workload;
import dev.rolloutlab.results.Topology;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;

/**
 * The requests a run sends and does not record: each leg's JIT warm-up on the grid's cheapest cell, a pass over every
 * cell that sets the cells' sizes, and the lead-in before each measured slice.
 */
final class WarmUp {
    private final CompareConfig c;
    private final PrintStream log;
    private final String who;
    /** Sends a leg a workload, recording nothing; null once the run stopped. */
    private final BiFunction<Topologies.Leg, Workload, LoadGenerator.Run> sender;

    private final BiFunction<GridCell, Integer, Workload> workloads;
    private final CellSizing sizing;
    private final BooleanSupplier stopped;
    /** Per process, the throughput of each window of its warm-up until steady (run.json). */
    private final Map<String, List<Double>> steady = new LinkedHashMap<>();

    WarmUp(
            CompareConfig c,
            PrintStream log,
            String who,
            BiFunction<Topologies.Leg, Workload, LoadGenerator.Run> sender,
            BiFunction<GridCell, Integer, Workload> workloads,
            CellSizing sizing,
            BooleanSupplier stopped) {
        this.c = c;
        this.log = log;
        this.who = who;
        this.sender = sender;
        this.workloads = workloads;
        this.sizing = sizing;
        this.stopped = stopped;
    }

    /** JIT and connection warm-up on every leg and cell: a fresh server JVM is otherwise measured cold. */
    void legs(List<Topologies.Leg> legs) {
        log.println("compare: warming up every leg (" + c.jitWarmup() + " requests of the cheapest cell"
                + (c.warmupMaxSec() > 0 ? ", on each process's first leg more until steady" : "") + ", then "
                + c.warmupPerCell() + " per cell; not recorded)");
        // the JVMs still compile through the first rounds after this (1.5-2.6 s of compiler CPU in round 1, 0.3-0.6 s
        // in round 3, in compare's JVM, serve and lb alike; cpu.csv's compiler_cpu_ms): passes of every cell until
        // their compilers were quiet cost 15-25 s a run and did not quiet round 1; each round turns the legs' order, so
        // they meet it alike
        for (Topologies.Leg leg : legs) if (!stopped.getAsBoolean() && jit(leg)) cells(leg);
    }

    /**
     * An unrecorded block of the cheapest cell before each measured slice: between slices the client's, servers' and
     * balancer's threads go idle, and a slice's first block then read 0.3–0.5 ms more tax than the rest of it on the
     * control (a tenth of its whole tax at 16 blocks a slice). Its cost is tens of ms a slice on the real engine.
     */
    void leadIn(Topologies.Leg leg) {
        // one that fails fast fails the slice too, which records it
        send(leg, cheapest(), c.concurrency());
    }

    /** run.json's {@code steady_warmup_req_per_s}. */
    Map<String, List<Double>> steadyRates() {
        return steady;
    }

    /** One pass over every cell on the leg, sizing each cell; it ends where the leg fails fast. */
    private void cells(Topologies.Leg leg) {
        for (GridCell cell : GridCell.of(c)) {
            if (stopped.getAsBoolean()) return;
            LoadGenerator.Run run = sender.apply(leg, workloads.apply(cell, c.warmupPerCell()));
            // a leg that fails fast here fails in round 1 too, which records it once and says why
            if (run == null || run.failedFast()) return;
            // timed over the requests alone: on a zero-compute cell the leg's own setup takes longer than its few
            // requests, and would set its count
            sizing.warmed(cell, c.warmupPerCell(), run.summary().durationS());
        }
    }

    /**
     * The leg's JIT warm-up on the cheapest cell: the first leg on each process warms until its throughput stops rising
     * (up to --warmup-max-sec); later legs on that warm process send a third of --jit-warmup (their own connection path
     * is all that is cold), and without the steady warm-up every leg sends --jit-warmup.
     */
    private boolean jit(Topologies.Leg leg) {
        String process = leg.topology().inProcess() ? "in-process" : leg.topology() == Topology.LB ? "lb" : "serve";
        if (c.warmupMaxSec() <= 0) return send(leg, cheapest(), c.jitWarmup());
        if (steady.containsKey(process)) return send(leg, cheapest(), Math.max(4 * c.concurrency(), c.jitWarmup() / 3));
        // 1 s windows: the trend rule needs 8 of them at least, and it is built for windows as noisy as these
        SteadyState s = SteadyState.warm(
                c.jitWarmup(), 4 * c.concurrency(), 1.0, c.warmupMaxSec(), n -> send(leg, cheapest(), n));
        steady.put(process, s.rates());
        log.println("compare: " + who + process + " (" + leg.topology() + " " + leg.connection() + ") warm-up " + s);
        return !s.stopped();
    }

    /** Whether the leg answered {@code n} requests of {@code cell} without failing fast. */
    private boolean send(Topologies.Leg leg, GridCell cell, int n) {
        LoadGenerator.Run run = sender.apply(leg, workloads.apply(cell, n));
        return run != null && !run.failedFast();
    }

    /** The grid's cheapest cell: its first prompt length and shortest output. */
    private GridCell cheapest() {
        return new GridCell(
                c.promptLens().get(0),
                c.outputLens().stream().min(Integer::compare).orElseThrow());
    }
}
