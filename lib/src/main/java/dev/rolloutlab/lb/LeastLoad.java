package dev.rolloutlab.lb;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Backends by load (in flight here, or the reported queue moved on by it; see {@link Backend#load()}), least first,
 * ties rotating so equal backends share work. Failover goes to the next least loaded, not to the neighbour: a block of
 * backends that fail fast would otherwise pass every request down to the first one after it.
 */
final class LeastLoad implements Policy {
    private final AtomicLong counter = new AtomicLong();
    /** Sort keys (load, then rotated index), one buffer per relay thread: no allocation per request. */
    private final ThreadLocal<long[]> keys = ThreadLocal.withInitial(() -> new long[0]);

    @Override
    public void order(List<Backend> backends, RouteHint hint, int[] order) {
        int n = backends.size();
        int start = (int) Math.floorMod(counter.getAndIncrement(), (long) n);
        long[] k = keys.get();
        if (k.length < n) keys.set(k = new long[n]);
        for (int i = 0; i < n; i++) {
            int j = (start + i) % n;
            k[i] = (long) Math.max(0, backends.get(j).load()) << 32 | i;
        }
        Arrays.sort(k, 0, n);
        for (int i = 0; i < n; i++) order[i] = (start + (int) k[i]) % n;
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
