package dev.rolloutlab.sim;

/**
 * Least squares for the few coefficients of a timing model: y ~ X*b, with R^2. Every point is weighed by its relative
 * error, so a step of 10 ms counts as much as one of 250 ms: measured step times bend (prefill of a short prompt costs
 * relatively more), and an ordinary fit let the long prompts set the intercept, doubling the modelled time of a
 * 16-token prefill.
 */
final class LeastSquares {
    /** The fitted coefficients and the share of the variance of y they explain. */
    record Fit(double[] beta, double r2) {}

    private LeastSquares() {}

    /**
     * Least squares of the relative error (weights 1/y²); {@code x[i]} is row i of the design matrix; R² on y itself.
     */
    static Fit fitRelative(double[][] x, double[] y) {
        double[][] xs = new double[x.length][];
        double[] ones = new double[y.length];
        for (int i = 0; i < x.length; i++) {
            if (!(y[i] > 0))
                throw new IllegalArgumentException("a relative fit needs positive measurements, got " + y[i]);
            xs[i] = new double[x[i].length];
            for (int c = 0; c < x[i].length; c++) xs[i][c] = x[i][c] / y[i];
            ones[i] = 1;
        }
        double[] beta = solve(xs, ones);
        return new Fit(beta, r2(x, y, beta));
    }

    /** Solves the normal equations (XᵀX)β = Xᵀy. */
    private static double[] solve(double[][] x, double[] y) {
        int k = x[0].length;
        double[][] a = new double[k][k + 1];
        for (int i = 0; i < x.length; i++) {
            for (int r = 0; r < k; r++) {
                for (int c = 0; c < k; c++) a[r][c] += x[i][r] * x[i][c];
                a[r][k] += x[i][r] * y[i];
            }
        }
        for (int p = 0; p < k; p++) { // Gauss-Jordan with partial pivoting
            int best = p;
            for (int r = p + 1; r < k; r++) if (Math.abs(a[r][p]) > Math.abs(a[best][p])) best = r;
            double[] t = a[p];
            a[p] = a[best];
            a[best] = t;
            if (Math.abs(a[p][p]) < 1e-12)
                throw new IllegalArgumentException(
                        "the measurements do not determine the model (vary the inputs more)");
            for (int r = 0; r < k; r++) {
                if (r == p) continue;
                double f = a[r][p] / a[p][p];
                for (int c = p; c <= k; c++) a[r][c] -= f * a[p][c];
            }
        }
        double[] beta = new double[k];
        for (int r = 0; r < k; r++) beta[r] = a[r][k] / a[r][r];
        return beta;
    }

    private static double r2(double[][] x, double[] y, double[] beta) {
        int k = beta.length;
        double mean = 0;
        for (double v : y) mean += v;
        mean /= y.length;
        double ssRes = 0, ssTot = 0;
        for (int i = 0; i < y.length; i++) {
            double pred = 0;
            for (int c = 0; c < k; c++) pred += x[i][c] * beta[c];
            ssRes += (y[i] - pred) * (y[i] - pred);
            ssTot += (y[i] - mean) * (y[i] - mean);
        }
        return ssTot == 0 ? 1 : 1 - ssRes / ssTot;
    }
}
