package dev.rolloutlab.sim;

/**
 * How a calibration fits the waits for a core ({@link CoreWaits}): guessed from the real host's measured waits, then
 * corrected toward them by what a simulated host showed.
 */
final class WaitFit {
    private WaitFit() {}

    /**
     * A wait as measured: a measured wait past {@link HostMeasurement.Waited#WAITED_MS} is that much shorter (an
     * exponential wait's remainder is as long as the whole); none where the server reported no timings.
     */
    static CoreWait guess(HostMeasurement.Waited w) {
        if (Double.isNaN(w.chance()) || w.chance() == 0) return CoreWait.NONE;
        return new CoreWait(w.chance(), Math.max(0.01, w.meanMs() - HostMeasurement.Waited.WAITED_MS));
    }

    /**
     * Each wait corrected halfway toward closing the gap between the real host's and the simulated one's: its chance by
     * the ratio of their shares that waited (a simulated engine waits only while other steps run, not every time), its
     * mean by the gap. Halfway, since a measured wait per request varies by 0.2–0.3 ms between measurements of one host
     * (a few hundred requests, of which a few in ten wait some ms), and whole steps chased that noise; not at all
     * within the real host's own spread of the figure.
     */
    static CoreWaits corrected(CoreWaits w, FitTarget fit, HostMeasurement.Waits sim) {
        HostMeasurement.Waits real = fit.real().waits(), sp = fit.spread().waits();
        return new CoreWaits(
                corrected(
                        w.wokenBesideDecodes(),
                        real.queuedBesideDecodes(),
                        sim.queuedBesideDecodes(),
                        fit,
                        sp.queuedBesideDecodes()),
                corrected(
                        w.wokenBesidePrefills(),
                        real.queuedBesidePrefills(),
                        sim.queuedBesidePrefills(),
                        fit,
                        sp.queuedBesidePrefills()),
                corrected(
                        w.finishing(),
                        real.finishingBesidePrefills(),
                        sim.finishingBesidePrefills(),
                        fit,
                        sp.finishingBesidePrefills()));
    }

    private static CoreWait corrected(
            CoreWait w,
            HostMeasurement.Waited real,
            HostMeasurement.Waited sim,
            FitTarget fit,
            HostMeasurement.Waited sp) {
        if (Double.isNaN(real.chance()) || Double.isNaN(sim.chance())) return w;
        if (!w.waits()) return guess(real);
        double chance =
                sim.chance() > 0 ? w.chance() * fit.halfway(real.chance() / sim.chance(), sp.chance()) : real.chance();
        double mean =
                real.meanMs() > 0 && sim.meanMs() > 0 && fit.beyondNoise(real.meanMs() / sim.meanMs(), sp.meanMs()) != 1
                        ? w.meanMs() + (real.meanMs() - sim.meanMs()) / 2
                        : w.meanMs();
        return new CoreWait(Math.max(0, Math.min(1, chance)), Math.max(0.01, Math.min(60_000, mean)));
    }
}
