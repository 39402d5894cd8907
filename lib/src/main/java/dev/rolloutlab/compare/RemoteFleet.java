package dev.rolloutlab.compare;

import dev.rolloutlab.results.Strategy;
import java.util.List;

/**
 * Servers compare did not start but can still move to new weights: a simulated fleet ({@code compare --fleet}), whose
 * engines sample on a clock (no logprobs worth scoring) and whose updates are scaled payloads over shaped links. The
 * freshness experiment runs its HTTP strategies through this at scale.
 */
public interface RemoteFleet {
    /** Every request port. */
    List<String> urls();

    /** The model name the servers answer to. */
    String model();

    /** The ways new weights can reach the hosts, by name. */
    List<Strategy> strategies();

    /** The version every host serves now. */
    long version();

    /** Moves every host to its next version with {@code strategy}; returns when the last one serves it. */
    Update update(Strategy strategy);

    /** One update: the real bytes moved to all hosts together, and what bytes over rates predict for its wall time. */
    record Update(long realBytes, double predictedMs) {}

    /** What the fleet's numbers rest on, in words for run.json and REPORT.md. */
    List<String> assumptions();

    /** What was measured of the fleet's links before the run (a record, written to run.json as it is). */
    Object linkCheck();
}
