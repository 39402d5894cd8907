package dev.rolloutlab.lb;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Two distinct backends at random, the less loaded one first: near least-load balance without a global scan. */
final class PowerOfTwoChoices implements Policy {
    @Override
    public void order(List<Backend> backends, RouteHint hint, int[] order) {
        int n = backends.size();
        ThreadLocalRandom r = ThreadLocalRandom.current();
        int a = r.nextInt(n), b = n > 1 ? r.nextInt(n - 1) : 0;
        if (n > 1 && b >= a) b++;
        Policy.walkFrom(n > 1 && backends.get(b).load() < backends.get(a).load() ? b : a, order);
    }

    @Override
    public boolean usesReportedLoad() {
        return true;
    }

    @Override
    public String name() {
        return "p2c";
    }
}
