package dev.rolloutlab.lb;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The round robin of {@code openai_load_balancer}: request k starts at backend k mod N and fails over cyclically from
 * there.
 */
final class RoundRobin implements Policy {
    private final AtomicLong counter = new AtomicLong();

    @Override
    public void order(List<Backend> backends, RouteHint hint, int[] order) {
        Policy.walkFrom((int) Math.floorMod(counter.getAndIncrement(), (long) backends.size()), order);
    }

    @Override
    public void skipTurn() {
        counter.getAndIncrement();
    }

    @Override
    public String name() {
        return "round-robin";
    }
}
