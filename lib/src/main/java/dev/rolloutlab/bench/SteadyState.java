package dev.rolloutlab.bench;

import static dev.rolloutlab.results.Percentiles.median;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntPredicate;
import java.util.stream.Collectors;

/**
 * A warm-up that runs until the server under it stops getting faster, judged from the throughput of successive windows
 * of requests. A fixed warm-up is not enough for our engine's server: on 2 cores it gained 10 % over its first 25 s
 * (about 3,000 requests; its compiler threads share the cores with the matmuls). On a cloud VM windows vary by ±25 %
 * (the hypervisor steals CPU), so no rule on a few windows' means holds; this one tests the trend of the last
 * {@value #TREND_WINDOWS} windows: steady when a Mann–Kendall test finds no rising trend at one-sided 10 % and Sen's
 * slope (the median of the pairwise slopes, which outliers cannot drag) is below {@value #SLOPE_PCT} % of the median
 * rate per window, after at least {@value #MIN_WINDOWS} windows. On series of +/-25 % noise it stops within 10 windows
 * of a flat server nine times in ten, and keeps warming a server that gains 8 % a window nine times in ten.
 */
public final class SteadyState {
    static final int MIN_WINDOWS = 8, TREND_WINDOWS = 10, SLOPE_PCT = 2;
    /** The normal quantile of a one-sided 10 % test: a Mann–Kendall z above it is a rising trend. */
    static final double Z_RISING = 1.2816;

    private final List<Double> rates = new ArrayList<>();
    private double seconds;
    private boolean stopped;

    /**
     * Sends windows through {@code window} (it sends {@code n} requests and returns when they are done; false: stop
     * warming, something failed) until steady or {@code maxSeconds} have passed. The first window has {@code first}
     * requests; later ones about {@code windowSeconds} at the last window's rate, at least {@code minWindow}.
     */
    public static SteadyState warm(
            int first, int minWindow, double windowSeconds, double maxSeconds, IntPredicate window) {
        return warmTogether(first, minWindow, windowSeconds, maxSeconds, List.of(window))
                .getFirst();
    }

    /**
     * Warms several servers at once, each in its own windows as {@link #warm} sends them, until every one is steady at
     * the same time or {@code maxSeconds} have passed. One that is steady keeps sending, so that the others are judged
     * under the load they warmed under, and it is judged again on every window: when another's compiler stops taking
     * its core, its own windows rise and it warms on. A window that fails ends that one's warm-up alone. The states
     * come back in the order of {@code windows}.
     */
    public static List<SteadyState> warmTogether(
            int first, int minWindow, double windowSeconds, double maxSeconds, List<IntPredicate> windows) {
        if (first < 1 || minWindow < 1) throw new IllegalArgumentException("warm-up windows need at least one request");
        List<SteadyState> states = windows.stream().map(w -> new SteadyState()).toList();
        long start = System.nanoTime();
        boolean[] done = {false};
        RuntimeException[] failure = {null};
        try (ExecutorService pool =
                Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().factory())) {
            for (int i = 0; i < windows.size(); i++) {
                SteadyState s = states.get(i);
                IntPredicate window = windows.get(i);
                pool.execute(() -> {
                    for (int n = first; ; ) {
                        long t0 = System.nanoTime();
                        boolean ok;
                        try {
                            ok = window.test(n);
                        } catch (RuntimeException e) {
                            synchronized (states) {
                                if (failure[0] == null) failure[0] = e;
                                done[0] = true;
                            }
                            return;
                        }
                        double took = (System.nanoTime() - t0) / 1e9, rate = n / Math.max(took, 1e-9);
                        synchronized (states) {
                            if (done[0]) return; // a window that ended after the others were steady is not judged
                            s.seconds = (System.nanoTime() - start) / 1e9;
                            if (ok) s.rates.add(rate);
                            else s.stopped = true;
                            done[0] = s.seconds >= maxSeconds || states.stream().allMatch(o -> o.stopped || o.steady());
                            if (done[0] || !ok) return;
                        }
                        n = Math.max(minWindow, (int) Math.min(1_000_000, Math.ceil(rate * windowSeconds)));
                    }
                });
            }
        }
        if (failure[0] != null) throw failure[0];
        return states;
    }

    /** A warm-up that measured these windows (as run.json keeps them), to judge it afterwards. */
    public static SteadyState of(List<Double> rates) {
        SteadyState s = new SteadyState();
        rates.forEach(s::add);
        return s;
    }

    /**
     * Adds a window's throughput (any unit, larger is faster) and says whether the warm-up is now steady; for a caller
     * whose windows are not counted in requests (start from {@code of(List.of())}).
     */
    public boolean add(double rate) {
        rates.add(rate);
        return steady();
    }

    /** Whether the last windows show no rising trend that matters (see the class's rule). */
    public boolean steady() {
        return rates.size() >= MIN_WINDOWS && !rising();
    }

    /**
     * Whether the last windows show a rising trend that matters, on as many as there are (at least three): what a
     * warm-up cut short by its time cap is judged by, since too few windows to call it steady are not a rise.
     */
    public boolean rising() {
        int n = rates.size();
        if (n < 3) return false;
        double[] w = rates.subList(Math.max(0, n - TREND_WINDOWS), n).stream()
                .mapToDouble(Double::doubleValue)
                .toArray();
        return mannKendallZ(w) > Z_RISING || senSlope(w) >= SLOPE_PCT / 100.0 * median(w);
    }

    /** The Mann–Kendall statistic as a normal z with continuity correction (no tie correction: rates are reals). */
    static double mannKendallZ(double[] x) {
        int n = x.length;
        long s = 0;
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) s += Long.signum(Double.compare(x[j], x[i]));
        double sd = Math.sqrt(n * (n - 1.0) * (2 * n + 5) / 18);
        return s > 0 ? (s - 1) / sd : s < 0 ? (s + 1) / sd : 0;
    }

    /** Sen's slope: the median of the slopes between every pair of windows, per window. */
    static double senSlope(double[] x) {
        double[] slopes = new double[x.length * (x.length - 1) / 2];
        int k = 0;
        for (int i = 0; i < x.length; i++) for (int j = i + 1; j < x.length; j++) slopes[k++] = (x[j] - x[i]) / (j - i);
        return median(slopes);
    }

    /** Whether a window failed and the warm-up stopped early. */
    public boolean stopped() {
        return stopped;
    }

    /** How long it warmed: from the start of the first window to the end of the last one judged. */
    public double seconds() {
        return seconds;
    }

    /** Each window's throughput, requests per second. */
    public List<Double> rates() {
        return List.copyOf(rates);
    }

    /** For logs: "steady after 8 windows in 31.2 s (req/s: 115 148 …)" or why not. */
    @Override
    public String toString() {
        String state = stopped
                ? "stopped by a failed window"
                : steady()
                        ? "steady"
                        : rising() ? "still getting faster (the time cap)" : "too few windows to judge (the time cap)";
        return String.format(
                Locale.ROOT,
                "%s after %d windows in %.1f s (req/s: %s)",
                state,
                rates.size(),
                seconds,
                rates.stream().map(r -> String.format(Locale.ROOT, "%.0f", r)).collect(Collectors.joining(" ")));
    }
}
