package dev.rolloutlab.lb;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** The backend with the least load (in flight here plus reported queue); ties rotate so equal backends share work. */
final class LeastLoad implements Policy {
    private final AtomicLong counter = new AtomicLong();

    @Override
    public void order(List<Backend> backends, int[] order) {
        int n = backends.size();
        int best = (int) Math.floorMod(counter.getAndIncrement(), (long) n);
        int bestLoad = backends.get(best).load();
        for (int i = 1; i < n; i++) {
            int j = (best + i) % n;
            int l = backends.get(j).load();
            if (l < bestLoad) {
                best = j;
                bestLoad = l;
            }
        }
        Policy.walkFrom(best, order);
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
