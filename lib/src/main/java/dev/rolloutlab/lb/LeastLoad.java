package dev.rolloutlab.lb;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Backends by load (in flight here, or the reported queue moved on by it; see {@link Backend#load()}), least first.
 * Among equally loaded backends the one on the least loaded machine goes first (a host's ports may share its engine),
 * then ties rotate so equal backends share work. Failover goes to the next least loaded, not to the neighbour: a block
 * of backends that fail fast would otherwise pass every request down to the first one after it.
 */
final class LeastLoad implements Policy {
    private static final int FIELD = 20, MAX = (1 << FIELD) - 1;

    private final AtomicLong counter = new AtomicLong();
    /** Per relay thread: sort keys (load, machine's load, rotated index); no allocation per request. */
    private final ThreadLocal<long[]> keys = ThreadLocal.withInitial(() -> new long[0]);
    /** Per relay thread: each backend's load, then each machine's. */
    private final ThreadLocal<int[]> loads = ThreadLocal.withInitial(() -> new int[0]);
    /** Each backend's machine as an index, for the last list of backends seen. */
    private volatile Machines machines = new Machines(List.of(), new int[0], new int[0]);

    private record Machines(List<Backend> of, int[] machineOf, int[] ports) {
        static Machines of(List<Backend> backends) {
            int n = backends.size();
            int[] machineOf = new int[n], ports = new int[n];
            int distinct = 0;
            for (int i = 0; i < n; i++) {
                int m = 0;
                while (m < i && !backends.get(m).machine.equals(backends.get(i).machine)) m++;
                machineOf[i] = m < i ? machineOf[m] : distinct++;
                ports[machineOf[i]]++;
            }
            return new Machines(backends, machineOf, ports);
        }
    }

    @Override
    public void order(List<Backend> backends, RouteHint hint, int[] order) {
        int n = backends.size();
        Machines ms = machines;
        if (ms.of != backends) machines = ms = Machines.of(backends);
        int start = (int) Math.floorMod(counter.getAndIncrement(), (long) n);
        long[] k = keys.get();
        if (k.length < n) keys.set(k = new long[n]);
        int[] l = loads.get();
        if (l.length < 2 * n) loads.set(l = new int[2 * n]);
        Arrays.fill(l, n, 2 * n, 0);
        for (int j = 0; j < n; j++)
            l[n + ms.machineOf[j]] +=
                    l[j] = Math.min(MAX, Math.max(0, backends.get(j).load()));
        for (int i = 0; i < n; i++) {
            int j = (start + i) % n, m = ms.machineOf[j];
            long perPort = Math.min(MAX, l[n + m] * 64L / ms.ports[m]); // the machine's mean load, in 1/64ths
            k[i] = (long) l[j] << 2 * FIELD | perPort << FIELD | i;
        }
        Arrays.sort(k, 0, n);
        for (int i = 0; i < n; i++) order[i] = (start + (int) (k[i] & MAX)) % n;
    }

    @Override
    public boolean usesReportedLoad() {
        return true;
    }

    @Override
    public String name() {
        return "least-load";
    }
}
