package dev.rolloutlab.compare;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a run's time went, phase by phase (run.json's {@code phase_seconds} and compare's last line): on 2 cores the
 * warm-ups and the freshness experiment take as long as the measured cells, and a researcher choosing flags should see
 * that.
 */
public final class RunPhases {
    /** A run's phases, in the order they run. */
    public enum Phase {
        STARTING("starting"),
        CONTROL_WARM_UP("control warm-up"),
        WARM_UP("warm-up"),
        CELLS("cells"),
        FRESHNESS("freshness"),
        RESULTS("results"),
        REPORT("report");

        private final String wire;

        Phase(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }
    }

    private final Map<Phase, Double> seconds = new LinkedHashMap<>();
    private long last = System.nanoTime();

    /** The time since the previous mark (or since this was made) was spent in {@code phase}. */
    public synchronized void mark(Phase phase) {
        long now = System.nanoTime();
        seconds.merge(phase, (now - last) / 1e9, Double::sum);
        last = now;
    }

    /** Seconds per phase that ran, by wire name, to a tenth. */
    public synchronized Map<String, Double> seconds() {
        Map<String, Double> out = new LinkedHashMap<>();
        seconds.forEach((p, s) -> out.put(p.wire(), Math.round(s * 10) / 10.0));
        return out;
    }

    /** For the last line: "starting 15 s, warm-up 44 s, cells 160 s, ...". */
    public synchronized String describe() {
        List<String> parts = new ArrayList<>();
        seconds.forEach((p, s) -> parts.add(String.format(Locale.ROOT, "%s %.0f s", p.wire(), s)));
        return String.join(", ", parts);
    }
}
