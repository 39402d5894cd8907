package dev.rolloutlab.lb;

import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends a request where its prompt's prefix was sent before, so that backend's prefix cache serves it, unless the
 * backends' loads have drifted apart; the shape of SGLang's gateway {@code cache_aware} policy. What each backend was
 * sent is remembered approximately: the prompt's bytes in blocks of {@value #BLOCK_BYTES}, each named by a hash chained
 * to the blocks before it (an approximate prefix tree, as llm-d's scorer keeps one), under a cap of
 * {@value #MAX_BLOCKS} blocks evicted least recently used. A backend whose blocks match at least
 * {@value #MATCH_PERCENT} % of the prompt is chosen; below that, or when the busiest backend has more than
 * {@value #IMBALANCE_ABS} requests in flight beyond the idlest and {@value #IMBALANCE_PERCENT} % of it, the least
 * loaded one is.
 */
final class CacheAware implements Policy {
    static final int BLOCK_BYTES = 64, MAX_BLOCKS = 200_000;
    static final int MATCH_PERCENT = 50, IMBALANCE_ABS = 32, IMBALANCE_PERCENT = 150;

    private final LeastLoad fallback = new LeastLoad();
    /**
     * Block hash to the backends that were sent it, a bit set over slots (slot i: the i-th backend URL seen; a pod's
     * fleet has hundreds of ports); access order.
     */
    private final LinkedHashMap<Long, long[]> blocks = new LinkedHashMap<>(1024, 0.75f, true);

    private final Map<String, Integer> slots = new HashMap<>();
    final AtomicLong byPrefix = new AtomicLong(), byLoad = new AtomicLong();
    final AtomicLong promptBlocks = new AtomicLong(), matchedBlocks = new AtomicLong();

    @Override
    public void order(List<Backend> backends, RouteHint hint, int[] order) {
        fallback.order(backends, hint, order);
        long[] h = hashes(hint);
        if (h.length == 0 || backends.size() == 1) {
            byLoad.incrementAndGet();
            return;
        }
        boolean byMatch;
        synchronized (this) {
            int best = -1, bestLen = 0;
            for (int i = 0; i < backends.size(); i++) {
                int slot = slot(backends.get(order[i]).url), len = 0;
                while (len < h.length && sentTo(blocks.get(h[len]), slot)) len++;
                if (len > bestLen) {
                    best = i;
                    bestLen = len;
                }
            }
            promptBlocks.addAndGet(h.length);
            matchedBlocks.addAndGet(bestLen);
            byMatch = best >= 0 && bestLen * 100 >= MATCH_PERCENT * h.length && !imbalanced(backends);
            if (byMatch) { // the matching backend first, the others in least-load order as failover
                int chosen = order[best];
                System.arraycopy(order, 0, order, 1, best);
                order[0] = chosen;
            }
            // remembered when chosen, not when answered: a group's requests sent together follow the first
            remember(h, slot(backends.get(order[0]).url));
        }
        (byMatch ? byPrefix : byLoad).incrementAndGet();
    }

    private static boolean sentTo(long[] owners, int slot) {
        return owners != null && slot >> 6 < owners.length && (owners[slot >> 6] & 1L << slot) != 0;
    }

    private void remember(long[] h, int slot) {
        int word = slot >> 6;
        // the root last: it is then the most recently used, and evicted after the blocks that need it
        for (int i = h.length - 1; i >= 0; i--) {
            long[] owners = blocks.get(h[i]);
            if (owners == null || owners.length <= word) {
                owners = owners == null ? new long[word + 1] : Arrays.copyOf(owners, word + 1);
                blocks.put(h[i], owners);
            }
            owners[word] |= 1L << slot;
        }
        for (Iterator<Long> it = blocks.keySet().iterator(); blocks.size() > MAX_BLOCKS && it.hasNext(); ) {
            it.next();
            it.remove();
        }
    }

    /** A backend's bit in the block sets, given in the order backends are first seen. */
    private int slot(String url) {
        Integer s = slots.get(url);
        if (s == null) slots.put(url, s = slots.size());
        return s;
    }

    private static boolean imbalanced(List<Backend> backends) {
        int min = Integer.MAX_VALUE, max = 0;
        for (Backend b : backends) {
            int l = Math.max(0, b.load());
            min = Math.min(min, l);
            max = Math.max(max, l);
        }
        return max - min > IMBALANCE_ABS && max * 100L > (long) IMBALANCE_PERCENT * min;
    }

    /** The chained hashes of the prompt's whole blocks of bytes. */
    static long[] hashes(RouteHint hint) {
        byte[] body = hint.body();
        if (body == null) return new long[0];
        int from = hint.promptStart(), n = (body.length - from) / BLOCK_BYTES;
        long[] h = new long[n];
        long x = 0x9E3779B97F4A7C15L;
        for (int b = 0; b < n; b++) {
            for (int i = from + b * BLOCK_BYTES, end = i + BLOCK_BYTES; i < end; i++)
                x = (x ^ (body[i] & 0xFF)) * 0x100000001B3L;
            x ^= x >>> 29;
            h[b] = x;
        }
        return h;
    }

    @Override
    public void addMetrics(MetricSnapshots.Builder m) {
        LbMetrics.counter(
                m, "lb_routed_by_prefix", "Requests sent where their prompt's prefix went before.", byPrefix.get());
        LbMetrics.counter(m, "lb_routed_by_load", "Requests sent to the least loaded backend instead.", byLoad.get());
        LbMetrics.counter(m, "lb_prefix_blocks", "Prompt blocks looked up.", promptBlocks.get());
        LbMetrics.counter(
                m,
                "lb_prefix_matched_blocks",
                "Prompt blocks the chosen backend was sent before.",
                matchedBlocks.get());
    }

    @Override
    public boolean usesReportedLoad() {
        return true;
    }

    @Override
    public String name() {
        return "cache-aware";
    }
}
