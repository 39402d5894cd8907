package dev.rolloutlab.sim;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

/**
 * {@code compare --fleet sim:HOSTSxPORTS}: simulated hosts (namespaces, shaped links, one simulated serve per host)
 * for compare's HTTP legs to run against, checked like a sweep's before use and torn down after.
 */
public final class Fleet implements AutoCloseable {
    private final NetnsFleet net;
    private final SimHosts hosts;
    private final Profile profile;
    private final LinkCheck check;

    private Fleet(NetnsFleet net, SimHosts hosts, Profile profile, LinkCheck check) {
        this.net = net;
        this.hosts = hosts;
        this.profile = profile;
        this.check = check;
    }

    /** The hosts and ports of {@code sim:HxP}; a clear error for anything else. */
    public static int[] parse(String spec) {
        var m = java.util.regex.Pattern.compile("sim:(\\d{1,3})x(\\d{1,2})").matcher(spec == null ? "" : spec);
        if (!m.matches()) throw new IllegalArgumentException("--fleet " + spec + ": expected sim:HOSTSxPORTS, e.g. sim:8x4");
        int h = Integer.parseInt(m.group(1)), p = Integer.parseInt(m.group(2));
        if (h < 1 || h > NetnsFleet.MAX_HOSTS || p < 1 || p > 16) throw new IllegalArgumentException("--fleet " + spec + ": hosts must be in [1, 200], ports in [1, 16]");
        return new int[]{h, p};
    }

    public static Fleet start(String spec, String profileName, LinkProfile link, PrintStream log) {
        int[] hp = parse(spec);
        Profile profile = Profile.load(profileName);
        NetnsFleet net = NetnsFleet.up(hp[0], link, 1);
        try {
            Path work = Files.createTempDirectory("rollout-lab-fleet");
            String token = UUID.randomUUID().toString();
            Path tokenFile = Files.writeString(work.resolve("admin.token"), token);
            log.printf("compare: %d simulated hosts x %d ports (%s links, profile %s)%n", hp[0], hp[1], link.name(), profile.name());
            SimHosts hosts = SimHosts.start(net, hp[0], hp[1], profileName, tokenFile, work);
            var http = dev.rolloutlab.openai.OpenAiClient.http(8, java.time.Duration.ofSeconds(60));
            LinkCheck check = LinkCheck.measure(hosts, new dev.rolloutlab.openai.OpenAiClient(http, hosts.hostUrls(1).get(0), null, true),
                    new dev.rolloutlab.openai.OpenAiClient(http, hosts.directUrl(1), null, true), hosts.hostUrls(1).get(0), link, 1, token, false);
            if (!check.ok()) {
                hosts.close();
                throw new IllegalStateException("link check failed: " + check.failure());
            }
            log.printf("compare: link check: round trip %.3f ms (profile %.3f), rate %.0f Mbit/s (profile %.0f; requests use a small share of it)%n",
                    check.rttMs(), check.expectedRttMs(), check.rateMbit(), check.expectedRateMbit());
            return new Fleet(net, hosts, profile, check);
        } catch (java.io.IOException e) {
            net.close();
            throw new java.io.UncheckedIOException(e);
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
    }

    public List<String> urls() {
        return hosts.urls();
    }

    public Profile profile() {
        return profile;
    }

    public LinkCheck check() {
        return check;
    }

    @Override
    public void close() {
        hosts.close();
        net.close();
    }
}
