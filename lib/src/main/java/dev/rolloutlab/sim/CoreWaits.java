package dev.rolloutlab.sim;

import java.util.Objects;

/**
 * Where an engine's thread waits for a core the other engines' steps hold, outside its own steps: when a request wakes
 * it from idle (before the prefill, so in the request's queue time), and when its step has produced a request's last
 * token (before the request ends). A running step gives its cores back between its parallel sections: often during
 * decode steps, rarely during a prefill's long matrix products. A step's share cannot express either: each is a wait
 * beside the steps, not a slower step.
 *
 * @param wokenBesideDecodes an idle engine woken by a request while only decode steps run
 * @param wokenBesidePrefills an idle engine woken by a request while a prefill runs
 * @param finishing an engine whose step has just finished a request
 */
public record CoreWaits(CoreWait wokenBesideDecodes, CoreWait wokenBesidePrefills, CoreWait finishing) {
    /** Every thread finds a core at once. */
    public static final CoreWaits NONE = new CoreWaits(CoreWait.NONE, CoreWait.NONE, CoreWait.NONE);

    public CoreWaits {
        Objects.requireNonNull(wokenBesideDecodes, "wokenBesideDecodes");
        Objects.requireNonNull(wokenBesidePrefills, "wokenBesidePrefills");
        Objects.requireNonNull(finishing, "finishing");
    }

    /** The wait of an engine woken while these steps run. */
    CoreWait woken(boolean prefillRunning) {
        return prefillRunning ? wokenBesidePrefills : wokenBesideDecodes;
    }

    boolean wokenWaits() {
        return wokenBesideDecodes.waits() || wokenBesidePrefills.waits();
    }
}
