package dev.rolloutlab.compare;

import java.util.List;

/** Gives tests in other packages the free-port helper without making it public API. */
public final class FreshnessTestAccess {
    private FreshnessTestAccess() {
    }

    public static List<Integer> freePorts(int n) {
        return FreshnessExperiment.freePorts(n);
    }
}
