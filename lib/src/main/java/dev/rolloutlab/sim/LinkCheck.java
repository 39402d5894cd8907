package dev.rolloutlab.sim;

import dev.rolloutlab.openai.OpenAiClient;

import java.util.Arrays;
import java.util.Map;

/**
 * Measures one simulated host's link before a run: the round trip as the median time of {@code GET /health} on a
 * kept-alive connection, the rate as a payload pushed to the host. A run whose link is not within 10 % of its profile
 * (or 0.3 ms of round trip: a health answer costs about that much by itself here) stops and says why.
 */
public record LinkCheck(double rttMs, double expectedRttMs, double rateMbit, double expectedRateMbit, String failure) {
    static final double RTT_SLACK_MS = 0.3;

    public boolean ok() {
        return failure == null;
    }

    static LinkCheck measure(OpenAiClient host, String url, LinkProfile link, double bytesScale, String adminToken) {
        double[] rtt = new double[25];
        for (int i = -5; i < rtt.length; i++) { // 5 unrecorded: the connection and the JIT warm up
            long t0 = System.nanoTime();
            OpenAiClient.Exchange x = host.get("/health");
            if (x.status() != 200) return new LinkCheck(Double.NaN, link.rttMs(), Double.NaN, 0, "cannot reach " + url + ": " + x.status() + " " + x.error());
            if (i >= 0) rtt[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(rtt);
        double medianRtt = rtt[rtt.length / 2];
        double expectedRate = link.rateMbit() / bytesScale;
        double rate = Double.NaN;
        if (link.rateMbit() > 0) {
            // half a second of data at the expected rate (at least 256 KiB), after a small push that opens the connection
            int bytes = (int) Math.min(256L << 20, Math.max(256 << 10, (long) (expectedRate * 1e6 / 8 * 0.5)));
            Map<String, String> admin = Map.of("X-Admin-Token", adminToken);
            host.postBytes("/admin/sim_weights", new byte[1024], "application/octet-stream", admin);
            long t0 = System.nanoTime();
            OpenAiClient.Exchange x = host.postBytes("/admin/sim_weights", new byte[bytes], "application/octet-stream", admin);
            double sec = (System.nanoTime() - t0) / 1e9 - medianRtt / 1e3;
            if (!x.ok()) return new LinkCheck(medianRtt, link.rttMs(), Double.NaN, expectedRate, "the rate probe failed: " + x.status() + " " + x.body());
            rate = bytes * 8 / sec / 1e6;
        }
        String why = null;
        if (Math.abs(medianRtt - link.rttMs()) > Math.max(0.10 * link.rttMs(), RTT_SLACK_MS)) {
            why = String.format(java.util.Locale.ROOT, "measured round trip %.3f ms, profile %.3f ms: the shaping did not take, or this machine adds more", medianRtt, link.rttMs());
        } else if (link.rateMbit() > 0 && Math.abs(rate - expectedRate) > 0.10 * expectedRate) {
            why = String.format(java.util.Locale.ROOT, "measured rate %.1f Mbit/s, profile %.1f Mbit/s (after --bytes-scale %.0f): this machine cannot move "
                    + "that much through a namespace; raise --bytes-scale", rate, expectedRate, bytesScale);
        }
        return new LinkCheck(medianRtt, link.rttMs(), rate, expectedRate, why);
    }
}
