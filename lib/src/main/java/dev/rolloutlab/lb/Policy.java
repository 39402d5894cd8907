package dev.rolloutlab.lb;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Orders the backends to try for one request: the first is the choice, the rest are failover in order.
 * Round robin keeps the seed's exact order (request k starts at backend k mod N and walks on cyclically).
 */
public enum Policy {
    ROUND_ROBIN, LEAST_LOAD, P2C, RANDOM;

    public static Policy parse(String s) {
        return switch (s.toLowerCase()) {
            case "round-robin", "rr" -> ROUND_ROBIN;
            case "least-load" -> LEAST_LOAD;
            case "p2c" -> P2C;
            case "random" -> RANDOM;
            default -> throw new IllegalArgumentException("--policy " + s + ": expected round-robin, least-load, p2c or random");
        };
    }

    /** Fills {@code order} with indexes into {@code backends}; {@code counter} is the shared round-robin counter. */
    void order(List<Backend> backends, AtomicLong counter, int[] order) {
        int n = backends.size();
        int start = switch (this) {
            case ROUND_ROBIN -> (int) Math.floorMod(counter.getAndIncrement(), (long) n);
            case RANDOM -> ThreadLocalRandom.current().nextInt(n);
            case LEAST_LOAD -> {
                int best = (int) Math.floorMod(counter.getAndIncrement(), (long) n); // ties rotate
                for (int i = 0; i < n; i++) {
                    int j = (best + i) % n;
                    if (backends.get(j).load() < backends.get(best).load()) best = j;
                }
                yield best;
            }
            case P2C -> {
                int a = ThreadLocalRandom.current().nextInt(n), b = n > 1 ? ThreadLocalRandom.current().nextInt(n - 1) : 0;
                if (n > 1 && b >= a) b++;
                yield backends.get(b).load() < backends.get(a).load() ? b : a;
            }
        };
        for (int i = 0; i < n; i++) order[i] = (start + i) % n;
    }
}
