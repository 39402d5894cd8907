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
    private Phase current = Phase.STARTING;
    private long since = System.nanoTime();

    /**
     * The run moves on to {@code next}; the time since the last move counts to the phase it leaves. A run that stops
     * part-way thus gives the phase it stopped in its time, not the one that writes what it has.
     */
    public void enter(Phase next) {
        long now = System.nanoTime();
        if (current != null) seconds.merge(current, (now - since) / 1e9, Double::sum);
        current = next;
        since = now;
    }

    /** The run is over: the last phase ends now. */
    public void finish() {
        enter(null);
    }

    /** Seconds per phase that has ended, by wire name, to a tenth. */
    public Map<String, Double> seconds() {
        Map<String, Double> out = new LinkedHashMap<>();
        seconds.forEach((p, s) -> out.put(p.wire(), Math.round(s * 10) / 10.0));
        return out;
    }

    /** For the last line: "starting 15 s, warm-up 44 s, cells 160 s, ...". */
    public String describe() {
        List<String> parts = new ArrayList<>();
        seconds.forEach((p, s) -> parts.add(String.format(Locale.ROOT, "%s %.0f s", p.wire(), s)));
        return String.join(", ", parts);
    }
}
