package dev.rolloutlab.lb;

import dev.rolloutlab.http1.Head;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the balancer knows of weight versions: each backend's, learned from {@code X-Weights-Version} on its answers and
 * from {@code /get_load}. With {@code --version-consistent} it also routes by them: a backend behind the newest version
 * served is out of rotation until it catches up (a server that restarted on old weights), a request whose answer spans
 * two versions is discarded and sent again, and every request of one group ({@code X-Group-Id}, e.g. the n samples of a
 * GRPO prompt sent as separate requests) is sampled under the version its first answer had.
 */
final class Versions {
    /** Groups remembered at once; the oldest pin is forgotten first, long after its group has finished. */
    static final int MAX_GROUPS = 65_536;

    static final int MAX_GROUP_ID = 128;

    private final boolean consistent;
    private final Map<String, Long> pins = new LinkedHashMap<>(1024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> e) {
            return size() > MAX_GROUPS;
        }
    };
    final AtomicLong rejected = new AtomicLong();

    Versions(boolean consistent) {
        this.consistent = consistent;
    }

    boolean consistent() {
        return consistent;
    }

    /**
     * The version a request may be served under: its group's pin, else the newest any backend that is up serves; -1:
     * any.
     */
    long target(String group, List<Backend> backends) {
        if (!consistent) return -1;
        if (group != null) {
            Long pin;
            synchronized (pins) {
                pin = pins.get(group);
            }
            if (pin != null) return pin;
        }
        long newest = -1;
        for (Backend b : backends) if (b.health.up && b.version > newest) newest = b.version;
        return newest;
    }

    /** Whether {@code b} may take a request that must be served under {@code target}. */
    boolean eligible(Backend b, long target) {
        return target < 0 || b.version == target;
    }

    /**
     * Learns the version from a backend's answer and, when routing by version, judges it before any byte reaches the
     * client: null if it may be relayed, otherwise why not (then the relay discards it and tries another backend).
     */
    String check(Backend b, Head rh, String group) {
        String v = rh.status() == 200 ? rh.header("X-Weights-Version") : null;
        if (v == null) return null;
        long version;
        try {
            version = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            return null;
        }
        b.version = version;
        if (!consistent) return null;
        String max = rh.header("X-Weights-Version-Max");
        if (max != null && !max.trim().equals(v.trim())) return reject("the answer spans versions " + v + " to " + max);
        if (group == null) return null;
        Long pin;
        synchronized (pins) {
            pin = pins.putIfAbsent(group, version);
        }
        return pin == null || pin == version
                ? null
                : reject("group " + group + " is pinned to version " + pin + ", the answer has " + version);
    }

    /** The pin of a group, or null: for the refusal when no backend serves it any more. */
    Long pin(String group) {
        synchronized (pins) {
            return pins.get(group);
        }
    }

    /** The 409 body for a group whose version no backend serves any more. */
    static Map<String, Object> groupGone(String group, long pin, String detail) {
        return Responses.error(
                "group " + group + " was sampled under weights version " + pin
                        + ", which no available backend serves any "
                        + "more; sample the whole group again under a new X-Group-Id",
                "invalid_request_error",
                "group_version_unavailable",
                Map.of("detail", detail));
    }

    private String reject(String why) {
        rejected.incrementAndGet();
        return why;
    }
}
