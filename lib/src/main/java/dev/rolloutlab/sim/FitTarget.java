package dev.rolloutlab.sim;

/**
 * What a calibration aims at: the host's figures ({@code real}), how far its own measurements of them lay apart
 * ({@code spread}, fractions: a gap inside it is the host's noise, and correcting it chased that noise from one round
 * to the next), and its number of ports.
 */
record FitTarget(HostMeasurement real, HostMeasurement spread, int n) {
    /** A simulated host this close to the real one beyond its spread is kept; a smaller gap is not corrected. */
    static final double CLOSE_ENOUGH = 0.05;

    /**
     * {@code ratio}, or 1 where it lies within the noise of figures whose spreads are {@code spreads} (a ratio of two
     * figures carries both) or within {@link #CLOSE_ENOUGH} of 1.
     */
    double beyondNoise(double ratio, double... spreads) {
        double noise = CLOSE_ENOUGH;
        for (double x : spreads) if (!Double.isNaN(x)) noise += x;
        return Math.abs(Math.log(ratio)) <= Math.log1p(noise) ? 1 : ratio;
    }

    /**
     * The factor that takes a figure halfway (in log terms) toward closing a gap of {@code ratio}, or 1 within noise:
     * each measurement has a few percent of noise, and full steps oscillated.
     */
    double halfway(double ratio, double... spreads) {
        return Math.sqrt(beyondNoise(ratio, spreads));
    }
}
