package dev.rolloutlab.lb;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** A uniformly random first choice: the baseline the load-aware policies are measured against. */
final class RandomChoice implements Policy {
    @Override
    public void order(List<Backend> backends, RouteHint hint, int[] order) {
        Policy.walkFrom(ThreadLocalRandom.current().nextInt(backends.size()), order);
    }

    @Override
    public String name() {
        return "random";
    }
}
