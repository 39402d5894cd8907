package dev.rolloutlab.sim;

import java.util.Locale;
import java.util.Map;

/**
 * The link between the client side and each simulated host: round-trip time, jitter, loss and rate. The rate is shaped
 * in the kernel ({@code tc htb} on both ends of the host's veth); the delay where {@link NetnsFleet#delay()} says (
 * {@code tc netem}, or the hosts' own servers where the kernel has no {@code sch_netem}); loss only under netem. Named
 * profiles cover the usual cases; {@code rtt=5,rate=1000} spells out a custom one.
 *
 * @param rttMs round trip client to host (each direction gets half)
 * @param lossPct packets dropped per direction, in %; needs netem
 * @param rateMbit link rate per host and direction, before {@code --bytes-scale}; 0: unshaped
 */
public record LinkProfile(String name, double rttMs, double jitterMs, double lossPct, double rateMbit) {
    static final Map<String, LinkProfile> NAMED = Map.of(
            "loopback", new LinkProfile("loopback", 0, 0, 0, 0),
            "same-rack", new LinkProfile("same-rack", 0.2, 0.02, 0, 25_000),
            "cross-zone", new LinkProfile("cross-zone", 2, 0.2, 0, 10_000),
            "slow-link", new LinkProfile("slow-link", 20, 2, 0, 100));

    public LinkProfile {
        if (!(rttMs >= 0 && rttMs <= 10_000))
            throw new IllegalArgumentException("rtt must be in [0, 10000] ms, got " + rttMs);
        if (!(jitterMs >= 0 && jitterMs <= rttMs))
            throw new IllegalArgumentException("jitter must be in [0, rtt], got " + jitterMs);
        if (!(lossPct >= 0 && lossPct <= 50))
            throw new IllegalArgumentException("loss must be in [0, 50] %, got " + lossPct);
        if (!(rateMbit >= 0 && rateMbit <= 400_000))
            throw new IllegalArgumentException("rate must be in [0, 400000] Mbit/s (0: unshaped), got " + rateMbit);
    }

    /** A named profile, or {@code rtt=MS[,jitter=MS][,loss=PCT][,rate=MBIT]}. */
    public static LinkProfile parse(String s) {
        LinkProfile named = NAMED.get(s);
        if (named != null) return named;
        double rtt = 0, jitter = 0, loss = 0, rate = 0;
        for (String kv : s.split(",")) {
            String[] p = kv.split("=", 2);
            if (p.length != 2)
                throw new IllegalArgumentException("--link " + s + ": expected one of " + NAMED.keySet()
                        + " or rtt=MS,rate=MBIT[,jitter=MS][,loss=PCT]");
            double v;
            try {
                v = Double.parseDouble(p[1]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--link " + s + ": " + p[0] + " must be a number, got " + p[1]);
            }
            switch (p[0].trim()) {
                case "rtt" -> rtt = v;
                case "jitter" -> jitter = v;
                case "rate" -> rate = v;
                case "loss" -> loss = v;
                default ->
                    throw new IllegalArgumentException(
                            "--link " + s + ": unknown key " + p[0] + " (rtt, jitter, loss, rate)");
            }
        }
        return new LinkProfile("custom", rtt, jitter, loss, rate);
    }

    /** In words, for reports. */
    public String describe() {
        return String.format(
                Locale.ROOT,
                "%s: round trip %s ms (jitter %s ms%s), %s",
                name,
                num(rttMs),
                num(jitterMs),
                lossPct > 0 ? ", loss " + num(lossPct) + " %" : "",
                rateMbit > 0 ? num(rateMbit) + " Mbit/s per host and direction" : "unshaped rate");
    }

    private static String num(double x) {
        return x == Math.rint(x) ? String.valueOf((long) x) : String.valueOf(x);
    }

    /**
     * What the weights' class lets through at once: 4 ms of the rate (one kernel tick), at least 16 KiB; a rate probe
     * must dwarf it.
     */
    long burstBytes(double bytesScale) {
        return Math.max(16 << 10, (long) (rateMbit * 1e6 / bytesScale / 8 * 0.004));
    }
}
