package dev.rolloutlab.lb;

import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, 2018) on a request's affinity key
 * ({@code X-Session-Id}, else {@code X-Group-Id}): every turn of a session and every member of a GRPO group goes to one
 * backend while its in-flight load stays under {@value #EPSILON_PERCENT} % above the average (and in any case below
 * {@value #FLOOR}, so a group of a few requests is never split at low load), and spills to the next backend on the ring
 * otherwise. Adding or removing a backend moves only its share of keys. Requests without a key go to the least loaded
 * backend.
 */
final class Sticky implements Policy {
    /** Points per backend on the ring: enough that four backends split keys within a few percent. */
    static final int POINTS = 160;
    /** How far above the average load a backend may go before a key spills past it. */
    static final int EPSILON_PERCENT = 25;
    /** Loads below this never spill: at low load the average is too small a bound for a group in flight together. */
    static final int FLOOR = 32;

    private final LeastLoad fallback = new LeastLoad();
    final AtomicLong keyed = new AtomicLong(), spilled = new AtomicLong(), unkeyed = new AtomicLong();
    private volatile Ring ring = new Ring(List.of(), new long[0], new int[0]);

    /** The ring for one list of backends: sorted point hashes and the backend index each belongs to. */
    private record Ring(List<String> urls, long[] points, int[] owners) {}

    @Override
    public void order(List<Backend> backends, RouteHint hint, int[] order) {
        int n = backends.size();
        if (hint.affinity() == null || n == 1) {
            if (hint.affinity() == null) unkeyed.incrementAndGet();
            else keyed.incrementAndGet();
            fallback.order(backends, hint, order);
            return;
        }
        Ring r = ring(backends);
        long total = 0;
        for (Backend b : backends) total += Math.max(0, b.load());
        // the capacity of each backend counting this request: ceil((1 + eps) * (total + 1) / n)
        long cap = Math.max(FLOOR, ((total + 1) * (100 + EPSILON_PERCENT) + 100L * n - 1) / (100L * n));
        int start = Arrays.binarySearch(r.points, hash(hint.affinity().getBytes(StandardCharsets.UTF_8), 0));
        if (start < 0) start = -start - 1;
        int filled = 0, firstFit = -1;
        boolean[] seen = new boolean[n];
        int[] walk = new int[n];
        for (int i = 0; filled < n && i < r.points.length; i++) {
            int b = r.owners[(start + i) % r.points.length];
            if (seen[b]) continue;
            seen[b] = true;
            walk[filled++] = b;
            if (firstFit < 0 && backends.get(b).load() < cap) firstFit = filled - 1;
        }
        if (firstFit < 0) firstFit = 0;
        if (firstFit > 0) spilled.incrementAndGet();
        else keyed.incrementAndGet();
        // the first backend under the bound, then the rest of the walk as failover, in ring order
        for (int i = 0; i < n; i++) order[i] = walk[(firstFit + i) % n];
    }

    private Ring ring(List<Backend> backends) {
        Ring r = ring;
        if (r.urls.size() == backends.size()) {
            boolean same = true;
            for (int i = 0; i < backends.size() && same; i++)
                same = r.urls.get(i).equals(backends.get(i).url);
            if (same) return r;
        }
        long[] keys = new long[backends.size() * POINTS];
        for (int b = 0; b < backends.size(); b++)
            for (int p = 0; p < POINTS; p++) {
                byte[] point = (backends.get(b).url + "#" + p).getBytes(StandardCharsets.UTF_8);
                keys[b * POINTS + p] = hash(point, 0) & ~0xFFFFL | b; // the owner rides in the low 16 bits
            }
        Arrays.sort(keys);
        int[] owners = new int[keys.length];
        for (int i = 0; i < keys.length; i++) owners[i] = (int) (keys[i] & 0xFFFF);
        r = new Ring(backends.stream().map(b -> b.url).toList(), keys, owners);
        ring = r;
        return r;
    }

    /** FNV-1a over the bytes from {@code from}, then a finaliser so nearby keys land far apart. */
    static long hash(byte[] a, int from) {
        long h = 0xCBF29CE484222325L;
        for (int i = from; i < a.length; i++) h = (h ^ (a[i] & 0xFF)) * 0x100000001B3L;
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        return h;
    }

    @Override
    public void addMetrics(MetricSnapshots.Builder m) {
        LbMetrics.counter(m, "lb_affinity_routed", "Keyed requests sent to their key's backend.", keyed.get());
        LbMetrics.counter(
                m,
                "lb_affinity_spilled",
                "Keyed requests sent past their key's backend, over the load bound.",
                spilled.get());
        LbMetrics.counter(m, "lb_affinity_unkeyed", "Requests without a key, sent by load.", unkeyed.get());
    }

    @Override
    public boolean usesReportedLoad() {
        return true;
    }

    @Override
    public String name() {
        return "sticky";
    }
}
