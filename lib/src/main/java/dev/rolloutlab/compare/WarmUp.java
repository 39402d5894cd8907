package dev.rolloutlab.compare;

import dev.rolloutlab.bench.LoadGenerator;
import dev.rolloutlab.bench.SteadyState;
import dev.rolloutlab.bench.Workload;
import dev.rolloutlab.results.Topology;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.IntPredicate;

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
    /** The balancer's process: it has no engine, so a warm-up of any engine's legs through it runs all its code. */
    static final String BALANCER = "lb";

    /** Per process, its warm-up until steady (run.json keeps each window's throughput). */
    private final Map<String, SteadyState> steady = new LinkedHashMap<>();

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

    /**
     * JIT and connection warm-up on every leg and cell: a fresh server JVM is otherwise measured cold. The first leg on
     * each process warms until steady, every process at once (see {@link #together}), but for the processes in
     * {@code warmAlready}; then each leg in turn sends its share and passes over every cell, alone on the machine,
     * since that pass sizes the cells.
     */
    void legs(List<Topologies.Leg> legs, Set<String> warmAlready) {
        log.println("compare: warming up every leg (" + c.jitWarmup() + " requests of the cheapest cell"
                + (c.warmupMaxSec() > 0
                        ? ", on each process's first leg more until steady, the processes together"
                        : "")
                + ", then " + c.warmupPerCell() + " per cell; not recorded)");
        // the JVMs still compile through the first rounds after this (1.5-2.6 s of compiler CPU in round 1, 0.3-0.6 s
        // in round 3, in compare's JVM, serve and lb alike; cpu.csv's compiler_cpu_ms): passes of every cell until
        // their compilers were quiet cost 15-25 s a run and did not quiet round 1; each round turns the legs' order, so
        // they meet it alike
        Map<Topologies.Leg, Boolean> firsts = c.warmupMaxSec() > 0 ? together(legs, warmAlready) : Map.of();
        for (Topologies.Leg leg : legs) {
            if (stopped.getAsBoolean()) return;
            Boolean warmed = firsts.get(leg);
            boolean ok = warmed != null
                    ? warmed
                    : c.warmupMaxSec() > 0
                            // a later leg on a warm process: its own connection path is all that is cold
                            ? send(leg, cheapest(), Math.max(4 * c.concurrency(), c.jitWarmup() / 3))
                            : send(leg, cheapest(), c.jitWarmup());
            if (ok) cells(leg);
        }
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
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        steady.forEach((process, s) -> rates.put(process, s.rates()));
        return rates;
    }

    /** Whether {@code process} warmed until steady here (not cut short by a failure or the time cap). */
    boolean steady(String process) {
        SteadyState s = steady.get(process);
        return s != null && s.steady();
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
     * The first leg on each process (this JVM's engines, serve, the balancer) warms on the cheapest cell until its
     * throughput stops rising (up to --warmup-max-sec), all of them at once: each process's compiler then has a core
     * while the others wait on the wire, where one after another the run waited out each compiler in turn (the
     * control's three took 17, 29 and 19 s in a row on the default grid, 20-28 s together). Says, per first leg,
     * whether it warmed without failing.
     */
    private Map<Topologies.Leg, Boolean> together(List<Topologies.Leg> legs, Set<String> warmAlready) {
        Map<String, Topologies.Leg> first = new LinkedHashMap<>();
        for (Topologies.Leg leg : legs) if (!warmAlready.contains(process(leg))) first.putIfAbsent(process(leg), leg);
        List<IntPredicate> windows = first.values().stream()
                .map(leg -> (IntPredicate) n -> !stopped.getAsBoolean() && send(leg, cheapest(), n))
                .toList();
        // 1 s windows: the trend rule needs 8 of them at least, and it is built for windows as noisy as these
        List<SteadyState> states =
                SteadyState.warmTogether(c.jitWarmup(), 4 * c.concurrency(), 1.0, c.warmupMaxSec(), windows);
        Map<Topologies.Leg, Boolean> warmed = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, Topologies.Leg> e : first.entrySet()) {
            SteadyState s = states.get(i++);
            Topologies.Leg leg = e.getValue();
            steady.put(e.getKey(), s);
            log.println(
                    "compare: " + who + e.getKey() + " (" + leg.topology() + " " + leg.connection() + ") warm-up " + s);
            warmed.put(leg, !s.stopped());
        }
        return warmed;
    }

    private static String process(Topologies.Leg leg) {
        return leg.topology().inProcess() ? "in-process" : leg.topology() == Topology.LB ? BALANCER : "serve";
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
