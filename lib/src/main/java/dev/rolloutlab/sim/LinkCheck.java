package dev.rolloutlab.sim;

import dev.rolloutlab.openai.OpenAiClient;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import okhttp3.OkHttpClient;

/**
 * Measures one simulated host's link before a run. The round trip: blocks of {@code GET /health} alternate (ABBA)
 * between the link's relay and the host straight, and the mean of the paired block differences is the link (what the
 * server and the client take cancels out, and so does a drift in time); its 95 % interval is the measurement's own
 * spread. The relays' own cost, measured so, is taken off their delays. The rate: the fastest of three payloads pushed
 * through the link. A link not within its tolerance of the profile stops the run and says why. The tolerance is 10 % of
 * the round trip or 0.15 ms, or, on a machine too noisy for that, the spread measured here; a link whose spread exceeds
 * half its round trip cannot be told apart from none and fails.
 */
public record LinkCheck(
        double rttMs,
        double expectedRttMs,
        double rateMbit,
        double expectedRateMbit,
        double toleranceMs,
        double relayCostMs,
        String failure) {
    static final double RTT_SLACK_MS = 0.15;
    /** A simulated host has a small heap (see {@link SimHosts}): probes and pushes stay under this. */
    static final long MAX_PROBE = 32L << 20;

    private static final int PAIRS = 10, BLOCK = 11;

    /** A paired round-trip measurement: mean of the block differences and the 95 % interval's half-width. */
    private record Rtt(double mean, double halfWidth) {}

    private static double blockMedian(OpenAiClient c) {
        double[] t = new double[BLOCK];
        for (int i = 0; i < t.length; i++) {
            long t0 = System.nanoTime();
            c.get("/health");
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return t[t.length / 2];
    }

    private static Rtt roundTrip(OpenAiClient link, OpenAiClient direct) {
        double[] d = new double[PAIRS];
        for (int p = 0; p < PAIRS; p++) {
            boolean linkFirst = p % 2 == 0;
            double first = blockMedian(linkFirst ? link : direct), second = blockMedian(linkFirst ? direct : link);
            d[p] = linkFirst ? first - second : second - first;
        }
        double mean = Arrays.stream(d).average().orElseThrow(), ss = 0;
        for (double x : d) ss += (x - mean) * (x - mean);
        double t = org.apache.commons.statistics.distribution.TDistribution.of(PAIRS - 1)
                .inverseSurvivalProbability(0.025);
        return new Rtt(mean, t * Math.sqrt(ss / (PAIRS - 1) / PAIRS));
    }

    public boolean ok() {
        return failure == null;
    }

    /** 10 % of the round trip or 0.15 ms, or the measurement's own spread where the machine is noisier than that. */
    private static double tolerance(LinkProfile link, Rtt m) {
        return Math.max(Math.max(0.10 * link.rttMs(), RTT_SLACK_MS), m.halfWidth());
    }

    /**
     * {@code requireRate} false: the rate is measured and recorded but does not stop the run (compare's requests use a
     * tiny share of any link; only weight transfers need it).
     */
    static LinkCheck measure(
            SimHosts sim,
            OkHttpClient http,
            LinkProfile link,
            double bytesScale,
            String adminToken,
            boolean requireRate) {
        // host 1's weights port through its link, and straight: what the server and the client take cancels out
        String url = sim.hostUrls(1).get(0);
        OpenAiClient host = new OpenAiClient(http, url, null, true),
                direct = new OpenAiClient(http, sim.directUrl(1), null, true);
        for (int i = 0; i < 300; i++) { // the connections and the JIT warm up
            OpenAiClient.Exchange x = (i % 2 == 0 ? host : direct).get("/health");
            if (x.status() != 200)
                return new LinkCheck(
                        Double.NaN,
                        link.rttMs(),
                        Double.NaN,
                        0,
                        Double.NaN,
                        0,
                        "cannot reach " + url + ": " + x.status() + " " + x.error());
        }
        // what the relays add by themselves is taken off their delays; each round measures again, at most five
        Rtt m = roundTrip(host, direct);
        double own = 0;
        for (int round = 0;
                round < 5 && link.rttMs() > 0 && Math.abs(m.mean() - link.rttMs()) > tolerance(link, m);
                round++) {
            own = Math.max(0, Math.min(link.rttMs(), own + m.mean() - link.rttMs()));
            sim.compensate(own);
            m = roundTrip(host, direct);
        }
        double medianRtt = m.mean(), tolerance = tolerance(link, m);
        double expectedRate = link.rateMbit() / bytesScale;
        double rate = Double.NaN;
        if (link.rateMbit() > 0) {
            // half a second of data at the expected rate, and at least 20 bursts (the burst passes at once and is not
            // counted), after a small push that opens the connection
            long burst = link.burstBytes(bytesScale);
            int bytes = (int) Math.min(MAX_PROBE, Math.max(20 * burst, (long) (expectedRate * 1e6 / 8 * 0.5)));
            Map<String, String> admin = Map.of("X-Admin-Token", adminToken);
            host.postBytes("/admin/sim_weights", new byte[1024], "application/octet-stream", admin);
            // the shaper is a ceiling: a busy machine only slows a push, so the fastest of three is the link's rate
            for (int push = 0; push < 3; push++) {
                long t0 = System.nanoTime();
                OpenAiClient.Exchange x =
                        host.postBytes("/admin/sim_weights", new byte[bytes], "application/octet-stream", admin);
                double sec = (System.nanoTime() - t0) / 1e9 - medianRtt / 1e3;
                if (!x.ok())
                    return new LinkCheck(
                            medianRtt,
                            link.rttMs(),
                            Double.NaN,
                            expectedRate,
                            tolerance,
                            own,
                            "the rate probe failed: " + x.status() + " " + x.body());
                double r = (bytes - burst) * 8 / sec / 1e6;
                rate = Double.isNaN(rate) ? r : Math.max(rate, r);
            }
        }
        String why = null;
        if (link.rttMs() > 0 && tolerance > link.rttMs() / 2) {
            why = String.format(
                    Locale.ROOT,
                    "the round trip's measurement spreads ±%.3f ms on this machine now, more than half the profile's "
                            + "%.3f ms: a link this short cannot be told apart from none here; use a profile "
                            + "with a longer round trip, or a quieter machine",
                    tolerance,
                    link.rttMs());
        } else if (Math.abs(medianRtt - link.rttMs()) > tolerance) {
            why = String.format(
                    Locale.ROOT,
                    "measured round trip %.3f ms, profile %.3f ms ± %.3f, after taking %.3f ms of the delay "
                            + "relays' own "
                            + "cost off: a round trip this short cannot be simulated on this machine now; use "
                            + "a profile with a longer one, or a quieter machine",
                    medianRtt,
                    link.rttMs(),
                    tolerance,
                    own);
        } else if (requireRate && link.rateMbit() > 0 && Math.abs(rate - expectedRate) > 0.10 * expectedRate) {
            why = String.format(
                    Locale.ROOT,
                    "measured rate %.1f Mbit/s, profile %.1f Mbit/s (after --bytes-scale %.0f): this machine "
                            + "cannot move "
                            + "that much through a namespace; raise --bytes-scale",
                    rate,
                    expectedRate,
                    bytesScale);
        }
        return new LinkCheck(medianRtt, link.rttMs(), rate, expectedRate, tolerance, own, why);
    }
}
