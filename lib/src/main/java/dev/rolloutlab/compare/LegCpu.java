package dev.rolloutlab.compare;

import dev.rolloutlab.process.CpuTime;
import java.util.List;

/**
 * CPU ms of an experiment's processes, apart: this JVM (the load generator, and the engines of in-process legs), serve
 * and every balancer; cumulative readings, or their differences over a leg. The kernel counts a process's CPU without
 * the time the hypervisor stole, so what a leg costs in CPU holds still where its wall-clock time does not.
 */
record LegCpu(double client, double serve, double lb) {
    /** Reads them now; a pid below 0 reads 0. */
    static LegCpu read(long servePid, List<Long> lbPids) {
        double lb = 0;
        for (long pid : lbPids) lb += CpuTime.ofMs(pid);
        return new LegCpu(CpuTime.selfMs(), servePid < 0 ? 0 : CpuTime.ofMs(servePid), lb);
    }

    double total() {
        return client + serve + lb;
    }

    LegCpu minus(LegCpu o) {
        return new LegCpu(client - o.client, serve - o.serve, lb - o.lb);
    }
}
