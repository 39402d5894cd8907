package dev.rolloutlab.sim;

import java.util.Locale;

/**
 * What one host measured, ms: alone on its first port, the time to first token, per token, and how much the time
 * between tokens varies within a stream (coefficient of variation); then, with sustained loops on every port at once
 * (NaN with one port), the time per token of whole streams of the short prompt and of the long one, their time to first
 * token (a prefill beside decoding engines), that of single-token requests (beside prefills) at the short prompt and at
 * the long one, the variation between tokens, and the mean wait in their engine's queue before their prefill began of
 * the streams (the other engines decoding) and of the single-token requests (the others prefilling); NaN from a server
 * that does not report its timings.
 */
record HostMeasurement(
        double ttftAlone,
        double tpotAlone,
        double itlCvAlone,
        double tpot,
        double tpotLong,
        double ttftBesideDecodes,
        double ttftBesidePrefills,
        double ttftLongBesidePrefills,
        double itlCv,
        double queueBesideDecodes,
        double queueBesidePrefills) {
    /** One port's figures: those of all ports at once unmeasured. */
    static HostMeasurement alone(double ttftAlone, double tpotAlone, double itlCvAlone) {
        double nan = Double.NaN;
        return new HostMeasurement(ttftAlone, tpotAlone, itlCvAlone, nan, nan, nan, nan, nan, nan, nan, nan);
    }

    /** Field by field, the mean of this measurement and {@code o}. */
    HostMeasurement meanWith(HostMeasurement o) {
        double[] a = values(), b = o.values();
        for (int i = 0; i < a.length; i++) a[i] = (a[i] + b[i]) / 2;
        return of(a);
    }

    /** Field by field, the median of this measurement, {@code b} and {@code c}. */
    HostMeasurement medianWith(HostMeasurement b, HostMeasurement c) {
        double[] x = values(), y = b.values(), z = c.values();
        for (int i = 0; i < x.length; i++) x[i] = Math.max(Math.min(x[i], y[i]), Math.min(Math.max(x[i], y[i]), z[i]));
        return of(x);
    }

    /**
     * The largest relative difference to {@code real} over the times and the variation between tokens on the busy host;
     * each queue's difference counts against the time to first token it is part of (a millisecond or two on its own,
     * whose relative noise would swamp the rest).
     */
    double worstError(HostMeasurement real) {
        double[] mine = values(), theirs = real.values();
        double worst = 0;
        for (int i = 0; i < mine.length - 2; i++) {
            if (i == 2 || Double.isNaN(theirs[i])) continue; // the variation alone is not fitted
            worst = Math.max(worst, Math.abs(mine[i] / theirs[i] - 1));
        }
        double[] queues = {
            Math.abs(queueBesideDecodes - real.queueBesideDecodes) / real.ttftBesideDecodes,
            Math.abs(queueBesidePrefills - real.queueBesidePrefills) / real.ttftBesidePrefills
        };
        for (double q : queues) if (!Double.isNaN(q)) worst = Math.max(worst, q);
        return worst;
    }

    private double[] values() {
        return new double[] {
            ttftAlone,
            tpotAlone,
            itlCvAlone,
            tpot,
            tpotLong,
            ttftBesideDecodes,
            ttftBesidePrefills,
            ttftLongBesidePrefills,
            itlCv,
            queueBesideDecodes,
            queueBesidePrefills
        };
    }

    private static HostMeasurement of(double[] v) {
        return new HostMeasurement(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10]);
    }

    @Override
    public String toString() {
        String alone = String.format(
                Locale.ROOT,
                "alone %.2f ms to the first token, %.2f a token (cv %.2f)",
                ttftAlone,
                tpotAlone,
                itlCvAlone);
        if (Double.isNaN(tpot)) return alone;
        return alone
                + String.format(
                        Locale.ROOT,
                        "; all ports: %.2f a token (cv %.2f; %.2f after the long prompt), %.2f to the first token "
                                + "beside decodes (%.2f of it queued), %.2f beside prefills (%.2f queued), %.2f for the long "
                                + "prompt",
                        tpot,
                        itlCv,
                        tpotLong,
                        ttftBesideDecodes,
                        queueBesideDecodes,
                        ttftBesidePrefills,
                        queueBesidePrefills,
                        ttftLongBesidePrefills);
    }
}
