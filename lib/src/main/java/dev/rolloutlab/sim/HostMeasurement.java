package dev.rolloutlab.sim;

import java.util.Arrays;
import java.util.Locale;

/**
 * What one host measured, ms: alone on its first port, the time to first token, per token, and how much the time
 * between tokens varies within a stream (coefficient of variation); then, with sustained loops on every port at once
 * (NaN with one port), the time per token of whole streams of the short prompt and of the long one, their time to first
 * token (a prefill beside decoding engines), that of single-token requests (beside prefills) at the short prompt and at
 * the long one, the variation between tokens, how the engines' threads waited for cores outside their steps
 * ({@link Waited}), and how much of the single-token loops' time the engines spent prefilling ({@link Duty}).
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
        Waits waits,
        Duty duty) {
    /**
     * Waits as measured: the share of requests that waited more than {@link #WAITED_MS} and their mean time, ms; NaN
     * from a server that does not report its timings. A request that did not wait still shows a few hundredths of a ms.
     */
    record Waited(double chance, double meanMs) {
        static final double WAITED_MS = 0.3;
        static final Waited UNKNOWN = new Waited(Double.NaN, Double.NaN);

        /** From each request's time, ms (NaN where not reported; half of them missing: unknown). */
        static Waited of(double[] ms) {
            double[] known = Arrays.stream(ms).filter(x -> !Double.isNaN(x)).toArray();
            if (known.length == 0 || 2 * known.length < ms.length) return UNKNOWN;
            double[] waited = Arrays.stream(known).filter(x -> x > WAITED_MS).toArray();
            double mean =
                    waited.length == 0 ? 0 : Arrays.stream(waited).average().orElseThrow();
            return new Waited((double) waited.length / known.length, mean);
        }

        /** The wait per request, over those that waited and those that did not. */
        double perRequestMs() {
            return chance * meanMs;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.0f %% waited %.2f ms", 100 * chance, meanMs);
        }
    }

    /**
     * Where the engines' threads waited: in their request's queue, woken beside decoding engines (the streams' loop)
     * and beside prefilling ones (the single-token loop), and between a single-token request's token and its end.
     */
    record Waits(Waited queuedBesideDecodes, Waited queuedBesidePrefills, Waited finishingBesidePrefills) {
        static final Waits UNKNOWN = new Waits(Waited.UNKNOWN, Waited.UNKNOWN, Waited.UNKNOWN);
    }

    /**
     * The share of each port's time its engine spent in prefill steps in the single-token loops on all ports, at the
     * short prompt and at the long one: between its requests an engine idles while the answer and the next request
     * travel. NaN from a server that does not report its timings.
     */
    record Duty(double prefills, double longPrefills) {
        static final Duty UNKNOWN = new Duty(Double.NaN, Double.NaN);
    }

    /** One port's figures: those of all ports at once unmeasured. */
    static HostMeasurement alone(double ttftAlone, double tpotAlone, double itlCvAlone) {
        double nan = Double.NaN;
        return new HostMeasurement(
                ttftAlone, tpotAlone, itlCvAlone, nan, nan, nan, nan, nan, nan, Waits.UNKNOWN, Duty.UNKNOWN);
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
     * Field by field, how far this measurement and {@code others} of the same host lie apart: (largest − smallest) /
     * their mean, a fraction; NaN where one is unmeasured. What a fit to them can be trusted to.
     */
    HostMeasurement spread(HostMeasurement... others) {
        double[] lo = values(), hi = values(), sum = values();
        for (HostMeasurement o : others) {
            double[] v = o.values();
            for (int i = 0; i < v.length; i++) {
                lo[i] = Math.min(lo[i], v[i]);
                hi[i] = Math.max(hi[i], v[i]);
                sum[i] += v[i];
            }
        }
        for (int i = 0; i < lo.length; i++) {
            double mean = sum[i] / (others.length + 1);
            lo[i] = mean == 0 ? 0 : (hi[i] - lo[i]) / Math.abs(mean);
        }
        return of(lo);
    }

    /**
     * The largest relative difference to {@code real} over the times and the variation between tokens on the busy host;
     * each wait's difference per request counts against the time to first token it is part of (a millisecond or two on
     * its own, whose relative noise would swamp the rest).
     */
    double worstError(HostMeasurement real) {
        return worstError(real, null);
    }

    /**
     * As {@link #worstError(HostMeasurement)}, each figure's difference less how far the real host's own measurements
     * lay apart on it ({@code spread}, from {@link #spread}): what is left is what a fit got wrong, not the host's
     * noise.
     */
    double worstError(HostMeasurement real, HostMeasurement spread) {
        double worst = 0;
        for (double e : errors(real, spread)) if (!Double.isNaN(e)) worst = Math.max(worst, e);
        return worst;
    }

    /** The figure on which this lies furthest from {@code real}, as {@link #worstError} judges, for a reader's log. */
    String worstFigure(HostMeasurement real) {
        double[] e = errors(real, null);
        int worst = 0;
        for (int i = 1; i < e.length; i++) if (!Double.isNaN(e[i]) && !(e[i] <= e[worst])) worst = i;
        return FIGURES[worst];
    }

    /** Each judged figure's difference to {@code real} ({@link #FIGURES}), less its spread; NaN where not judged. */
    private double[] errors(HostMeasurement real, HostMeasurement spread) {
        double[] mine = values(),
                theirs = real.values(),
                noise = spread == null ? new double[mine.length] : spread.values();
        double[] e = new double[FIGURES.length];
        for (int i = 0; i < TIMES; i++)
            e[i] = i == 2 || Double.isNaN(theirs[i]) // the variation alone is not fitted
                    ? Double.NaN
                    : Math.abs(mine[i] / theirs[i] - 1) - orZero(noise[i]);
        Waits w = real.waits;
        e[TIMES] = gap(waits.queuedBesideDecodes, w.queuedBesideDecodes, real.ttftBesideDecodes, noise, 9);
        e[TIMES + 1] = gap(waits.queuedBesidePrefills, w.queuedBesidePrefills, real.ttftBesidePrefills, noise, 11);
        e[TIMES + 2] =
                gap(waits.finishingBesidePrefills, w.finishingBesidePrefills, real.ttftBesidePrefills, noise, 13);
        return e;
    }

    /** The gap per request over {@code partOf}, less the real wait's own spread (its chance's and its length's). */
    private static double gap(Waited mine, Waited real, double partOf, double[] noise, int at) {
        double own = real.perRequestMs() * (orZero(noise[at]) + orZero(noise[at + 1]));
        return (Math.abs(mine.perRequestMs() - real.perRequestMs()) - own) / partOf;
    }

    private static double orZero(double x) {
        return Double.isNaN(x) ? 0 : x;
    }

    private static final String[] FIGURES = {
        "time to the first token alone",
        "time per token alone",
        "variation between tokens alone",
        "time per token on all ports",
        "time per token after the long prompt",
        "time to the first token beside decodes",
        "time to the first token beside prefills",
        "time to the first token of the long prompt",
        "variation between tokens on all ports",
        "wait in the queue beside decodes",
        "wait in the queue beside prefills",
        "wait before a request's end"
    };

    /** The timing fields before the waits in {@link #values}. */
    private static final int TIMES = 9;

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
            waits.queuedBesideDecodes.chance,
            waits.queuedBesideDecodes.meanMs,
            waits.queuedBesidePrefills.chance,
            waits.queuedBesidePrefills.meanMs,
            waits.finishingBesidePrefills.chance,
            waits.finishingBesidePrefills.meanMs,
            duty.prefills,
            duty.longPrefills
        };
    }

    private static HostMeasurement of(double[] v) {
        return new HostMeasurement(
                v[0],
                v[1],
                v[2],
                v[3],
                v[4],
                v[5],
                v[6],
                v[7],
                v[8],
                new Waits(new Waited(v[9], v[10]), new Waited(v[11], v[12]), new Waited(v[13], v[14])),
                new Duty(v[15], v[16]));
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
                                + "beside decodes (queued: %s), %.2f beside prefills (queued: %s; before the end: %s; "
                                + "prefilling %.0f %% of the time), %.2f for the long prompt (prefilling %.0f %%)",
                        tpot,
                        itlCv,
                        tpotLong,
                        ttftBesideDecodes,
                        waits.queuedBesideDecodes,
                        ttftBesidePrefills,
                        waits.queuedBesidePrefills,
                        waits.finishingBesidePrefills,
                        100 * duty.prefills,
                        ttftLongBesidePrefills,
                        100 * duty.longPrefills);
    }
}
