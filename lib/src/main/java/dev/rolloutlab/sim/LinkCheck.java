package dev.rolloutlab.sim;

import dev.rolloutlab.openai.OpenAiClient;

import java.util.Arrays;
import java.util.Map;

/**
 * Measures one simulated host's link before a run: the round trip as the median time of {@code GET /health} through
 * the link's relay minus the same straight to the host (what the server and the client take cancels out), the rate
 * as a payload pushed through the link. A run whose link is not within 10 % of its profile (or 0.15 ms of round trip)
 * stops and says why. The relays' own cost, measured here, is taken off their delays before the final measurement.
 */
public record LinkCheck(double rttMs, double expectedRttMs, double rateMbit, double expectedRateMbit, String failure) {
    static final double RTT_SLACK_MS = 0.15;
    /** A simulated host has a small heap (see {@link SimHosts}): probes and pushes stay under this. */
    static final long MAX_PROBE = 32L << 20;

    /** Median time of 101 health checks. */
    private static double median(OpenAiClient c) {
        double[] t = new double[101];
        for (int i = 0; i < t.length; i++) {
            long t0 = System.nanoTime();
            c.get("/health");
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return t[t.length / 2];
    }

    public boolean ok() {
        return failure == null;
    }

    /**
     * {@code requireRate} false: the rate is measured and recorded but does not stop the run (compare's requests use a
     * tiny share of any link; only weight transfers need it).
     */
    static LinkCheck measure(SimHosts sim, okhttp3.OkHttpClient http, LinkProfile link, double bytesScale, String adminToken, boolean requireRate) {
        // host 1's weights port through its link, and straight: what the server and the client take cancels out
        String url = sim.hostUrls(1).get(0);
        OpenAiClient host = new OpenAiClient(http, url, null, true), direct = new OpenAiClient(http, sim.directUrl(1), null, true);
        for (int i = 0; i < 300; i++) { // the connections and the JIT warm up
            OpenAiClient.Exchange x = (i % 2 == 0 ? host : direct).get("/health");
            if (x.status() != 200) return new LinkCheck(Double.NaN, link.rttMs(), Double.NaN, 0, "cannot reach " + url + ": " + x.status() + " " + x.error());
        }
        // what the relays add by themselves is taken off their delays; the machine is noisy, so a few rounds
        double tolerance = Math.max(0.10 * link.rttMs(), RTT_SLACK_MS), own = 0;
        double medianRtt = median(host) - median(direct);
        for (int round = 0; round < 5 && link.rttMs() > 0 && Math.abs(medianRtt - link.rttMs()) > tolerance; round++) {
            own = Math.max(0, Math.min(link.rttMs(), own + medianRtt - link.rttMs()));
            sim.compensate(own);
            medianRtt = median(host) - median(direct);
        }
        double expectedRate = link.rateMbit() / bytesScale;
        double rate = Double.NaN;
        if (link.rateMbit() > 0) {
            // half a second of data at the expected rate, and at least 20 bursts (the burst passes at once and is not
            // counted), after a small push that opens the connection
            long burst = link.burstBytes(bytesScale);
            int bytes = (int) Math.min(MAX_PROBE, Math.max(20 * burst, (long) (expectedRate * 1e6 / 8 * 0.5)));
            Map<String, String> admin = Map.of("X-Admin-Token", adminToken);
            host.postBytes("/admin/sim_weights", new byte[1024], "application/octet-stream", admin);
            long t0 = System.nanoTime();
            OpenAiClient.Exchange x = host.postBytes("/admin/sim_weights", new byte[bytes], "application/octet-stream", admin);
            double sec = (System.nanoTime() - t0) / 1e9 - medianRtt / 1e3;
            if (!x.ok()) return new LinkCheck(medianRtt, link.rttMs(), Double.NaN, expectedRate, "the rate probe failed: " + x.status() + " " + x.body());
            rate = (bytes - burst) * 8 / sec / 1e6;
        }
        String why = null;
        if (Math.abs(medianRtt - link.rttMs()) > tolerance) {
            why = String.format(java.util.Locale.ROOT, "measured round trip %.3f ms, profile %.3f ms, after taking %.3f ms of the delay relays' own "
                    + "cost off: a round trip this short cannot be simulated on this machine now; use a profile with a longer one, or a quieter machine",
                    medianRtt, link.rttMs(), own);
        } else if (requireRate && link.rateMbit() > 0 && Math.abs(rate - expectedRate) > 0.10 * expectedRate) {
            why = String.format(java.util.Locale.ROOT, "measured rate %.1f Mbit/s, profile %.1f Mbit/s (after --bytes-scale %.0f): this machine cannot move "
                    + "that much through a namespace; raise --bytes-scale", rate, expectedRate, bytesScale);
        }
        return new LinkCheck(medianRtt, link.rttMs(), rate, expectedRate, why);
    }
}
