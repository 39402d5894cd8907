package dev.rolloutlab.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntPredicate;
import java.util.stream.Collectors;

/**
 * A warm-up that runs until the server under it stops getting faster, judged from the throughput of successive windows
 * of requests. A fixed warm-up is not enough for our engine's server: on 2 cores it gained 10 % over its first 25 s
 * (about 3,000 requests; its compiler threads share the cores with the matmuls), so a fixed count measured some
 * launches warmer than others. Steady: the last {@value #CONFIRM} windows together are no faster than the
 * {@value #CONFIRM} before them by more than {@value #TOLERANCE_PCT} % (means of three: a single window of 2-2.5 s
 * varies by about 3 %, and a rule on single windows stopped while the server was still gaining 0.5 % a second).
 */
public final class SteadyState {
    static final int CONFIRM = 3;
    static final int TOLERANCE_PCT = 3;

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
        if (first < 1 || minWindow < 1) throw new IllegalArgumentException("warm-up windows need at least one request");
        SteadyState s = new SteadyState();
        long start = System.nanoTime();
        int n = first;
        while (true) {
            long t0 = System.nanoTime();
            if (!window.test(n)) {
                s.stopped = true;
                break;
            }
            double took = (System.nanoTime() - t0) / 1e9, rate = n / Math.max(took, 1e-9);
            s.seconds = (System.nanoTime() - start) / 1e9;
            if (s.add(rate) || s.seconds >= maxSeconds) break;
            n = Math.max(minWindow, (int) Math.min(1_000_000, Math.ceil(rate * windowSeconds)));
        }
        return s;
    }

    /** A warm-up that measured these windows (as run.json keeps them), to judge it afterwards. */
    public static SteadyState of(List<Double> rates) {
        SteadyState s = new SteadyState();
        rates.forEach(s::add);
        return s;
    }

    /** Adds a window's throughput (any unit, larger is faster) and says whether the warm-up is now steady. */
    boolean add(double rate) {
        rates.add(rate);
        return steady();
    }

    /** Whether the last windows stopped improving on the ones before them. */
    public boolean steady() {
        int n = rates.size();
        if (n < 2 * CONFIRM) return false;
        return mean(n - CONFIRM, n) <= mean(n - 2 * CONFIRM, n - CONFIRM) * (1 + TOLERANCE_PCT / 100.0);
    }

    private double mean(int from, int to) {
        return rates.subList(from, to).stream()
                .mapToDouble(Double::doubleValue)
                .average()
                .orElseThrow();
    }

    /** Whether a window failed and the warm-up stopped early. */
    public boolean stopped() {
        return stopped;
    }

    /** Each window's throughput, requests per second. */
    public List<Double> rates() {
        return List.copyOf(rates);
    }

    /** For logs: "steady after 8 windows in 31.2 s (req/s: 115 148 …)" or why not. */
    @Override
    public String toString() {
        String state =
                stopped ? "stopped by a failed window" : steady() ? "steady" : "still getting faster (the time cap)";
        return String.format(
                Locale.ROOT,
                "%s after %d windows in %.1f s (req/s: %s)",
                state,
                rates.size(),
                seconds,
                rates.stream().map(r -> String.format(Locale.ROOT, "%.0f", r)).collect(Collectors.joining(" ")));
    }
}
