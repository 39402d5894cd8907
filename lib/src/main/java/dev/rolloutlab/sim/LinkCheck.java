package dev.rolloutlab.sim;

import dev.rolloutlab.openai.OpenAiClient;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import okhttp3.OkHttpClient;

/**
 * Measures one simulated host's link before a run. The round trip: blocks of {@code GET /health} to host 1 alternate
 * (ABBA) between the link at its profile and the link at zero, and the mean of the paired block differences is the link
 * (what the server and the client take cancels out, and so does a drift in time); its 95 % interval is the
 * measurement's own spread. What the delay mechanism adds beyond its setting (its timer waking late) is measured so and
 * taken off the setting. The rate: the fastest of three payloads pushed through the link. A link not within its
 * tolerance of the profile stops the run and says by how much it missed. The tolerance comes from this machine: the
 * larger of 10 % of the round trip, the measurement's spread, and the mechanism's floor (twice the timer's median
 * lateness, one wait each way); a link whose tolerance exceeds half its round trip cannot be told apart from none.
 *
 * @param compensationMs the round trip taken off the setting for the mechanism's own cost
 * @param timerLateMedianUs how late the link's waits ended, median (NaN under netem, whose timer is the kernel's)
 * @param delay where the delay was added ({@link NetnsFleet.Delay})
 */
public record LinkCheck(
        double rttMs,
        double expectedRttMs,
        double rateMbit,
        double expectedRateMbit,
        double toleranceMs,
        double compensationMs,
        double timerLateMedianUs,
        double timerLateP99Us,
        String delay,
        String failure) {
    /** A simulated host has a small heap (see {@link SimHosts}): probes and pushes stay under this. */
    static final long MAX_PROBE = 32L << 20;

    /** 30 pairs: on a loaded 2-core VM block medians swing by ±2 ms, and the interval narrows as √pairs. */
    private static final int PAIRS = 30, BLOCK = 11;

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

    /**
     * Paired blocks with the link set to {@code settingMs} and to zero, in ABBA order; the link is left at the setting.
     */
    private static Rtt roundTrip(SimHosts sim, OpenAiClient host, double settingMs) {
        double[] d = new double[PAIRS];
        for (int p = 0; p < PAIRS; p++) {
            boolean linkFirst = p % 2 == 0;
            sim.setLink(linkFirst ? settingMs : 0);
            double first = blockMedian(host);
            sim.setLink(linkFirst ? 0 : settingMs);
            double second = blockMedian(host);
            d[p] = linkFirst ? first - second : second - first;
        }
        sim.setLink(settingMs);
        double mean = Arrays.stream(d).average().orElseThrow(), ss = 0;
        for (double x : d) ss += (x - mean) * (x - mean);
        double t = org.apache.commons.statistics.distribution.TDistribution.of(PAIRS - 1)
                .inverseSurvivalProbability(0.025);
        return new Rtt(mean, t * Math.sqrt(ss / (PAIRS - 1) / PAIRS));
    }

    public boolean ok() {
        return failure == null;
    }

    /** The larger of 10 % of the round trip, the measurement's spread and the mechanism's floor (see the class). */
    private static double tolerance(LinkProfile link, Rtt m, double[] lateUs) {
        double floor = Double.isNaN(lateUs[0]) ? 0 : 2 * lateUs[0] / 1e3;
        return Math.max(Math.max(0.10 * link.rttMs(), floor), m.halfWidth());
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
        String url = sim.hostUrls(1).get(0);
        OpenAiClient host = new OpenAiClient(http, url, null, true);
        for (int i = 0; i < 300; i++) { // the connection and the JIT warm up
            OpenAiClient.Exchange x = host.get("/health");
            if (x.status() != 200)
                return new LinkCheck(
                        Double.NaN,
                        link.rttMs(),
                        Double.NaN,
                        0,
                        Double.NaN,
                        0,
                        Double.NaN,
                        Double.NaN,
                        sim.delay().name(),
                        "cannot reach " + url + ": " + x.status() + " " + x.error());
        }
        // what the mechanism adds beyond its setting is taken off the setting; each round measures again, at most five
        double own = 0;
        Rtt m = roundTrip(sim, host, link.rttMs());
        double[] late = sim.timerLateUs();
        for (int round = 0;
                round < 5 && link.rttMs() > 0 && Math.abs(m.mean() - link.rttMs()) > tolerance(link, m, late);
                round++) {
            own = Math.max(0, Math.min(link.rttMs(), own + m.mean() - link.rttMs()));
            m = roundTrip(sim, host, link.rttMs() - own);
            late = sim.timerLateUs();
        }
        double medianRtt = m.mean(), tolerance = tolerance(link, m, late);
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
                            late[0],
                            late[1],
                            sim.delay().name(),
                            "the rate probe failed: " + x.status() + " " + x.body());
                double r = (bytes - burst) * 8 / sec / 1e6;
                rate = Double.isNaN(rate) ? r : Math.max(rate, r);
            }
        }
        String why = null;
        if (link.rttMs() > 0 && tolerance > link.rttMs() / 2) {
            why = String.format(
                    Locale.ROOT,
                    "measured round trip %.3f ms against the profile's %.3f ms, but this machine's tolerance is "
                            + "±%.3f ms now (spread ±%.3f, timer floor %.3f), more than half the profile: "
                            + "a link this "
                            + "short cannot be told apart from none here; use a profile with a longer round trip, or "
                            + "a quieter machine",
                    medianRtt,
                    link.rttMs(),
                    tolerance,
                    m.halfWidth(),
                    Double.isNaN(late[0]) ? 0 : 2 * late[0] / 1e3);
        } else if (Math.abs(medianRtt - link.rttMs()) > tolerance) {
            why = String.format(
                    Locale.ROOT,
                    "measured round trip %.3f ms, profile %.3f ms ± %.3f (missed by %.3f ms), after taking %.3f ms "
                            + "of the delay's own cost off the setting: this machine cannot simulate the link now; "
                            + "use a profile with a longer round trip, or a quieter machine",
                    medianRtt,
                    link.rttMs(),
                    tolerance,
                    Math.abs(medianRtt - link.rttMs()) - tolerance,
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
        return new LinkCheck(
                medianRtt,
                link.rttMs(),
                rate,
                expectedRate,
                tolerance,
                own,
                late[0],
                late[1],
                sim.delay().name(),
                why);
    }
}
