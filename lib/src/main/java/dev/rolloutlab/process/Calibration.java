package dev.rolloutlab.process;

/**
 * The machine's speed at two kinds of work, timed before and after a run: a fixed computation ({@code computeMs}), and
 * a hand-off between CPUs ({@code handOffUs}, {@link HandOff}), which is what HTTP's tax is made of and which moves
 * when the computation does not. NaN: not measured.
 */
public record Calibration(double computeMs, double handOffUs) {
    public static final Calibration NONE = new Calibration(Double.NaN, Double.NaN);

    /** Both readings now: about two seconds. */
    public static Calibration measure() {
        return new Calibration(MachineLoad.calibrationMs(), HandOff.crossCpuUs());
    }

    public boolean measured() {
        return !Double.isNaN(computeMs);
    }
}
