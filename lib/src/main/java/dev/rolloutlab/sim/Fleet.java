package dev.rolloutlab.sim;

import dev.rolloutlab.compare.CompareConfig;
import dev.rolloutlab.compare.RemoteFleet;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.results.Strategy;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import okhttp3.OkHttpClient;

/**
 * {@code compare --fleet sim:HOSTSxPORTS}: simulated hosts (namespaces, shaped links, one simulated serve per host, and
 * a storage host) for compare's HTTP legs and its freshness experiment to run against, checked like a sweep's before
 * use and torn down after.
 */
public final class Fleet implements RemoteFleet, AutoCloseable {
    /**
     * A fleet's shape and its weights: {@code modelGb} is the real update size, moved scaled down by
     * {@code bytesScale}.
     */
    public record Spec(int hosts, int ports, String profile, LinkProfile link, double bytesScale, double modelGb) {}

    private final Spec spec;
    private final NetnsFleet net;
    private final SimHosts sim;
    private final Profile profile;
    private final LinkCheck check;
    private final Propagation propagation;
    private final OkHttpClient http;
    private final OpenAiClient first;
    private final String token;

    private Fleet(
            Spec spec,
            NetnsFleet net,
            SimHosts sim,
            Profile profile,
            LinkCheck check,
            OkHttpClient http,
            String token) {
        this.spec = spec;
        this.net = net;
        this.sim = sim;
        this.profile = profile;
        this.check = check;
        this.token = token;
        this.http = http;
        this.propagation = new Propagation(sim, http, token, spec.hosts() + 1, spec.link(), spec.bytesScale());
        this.first = new OpenAiClient(http, sim.hostUrls(1).get(0), null, true);
    }

    /**
     * A fleet about to be started for {@code compare --fleet}: its size, links and timing model, checked before any
     * namespace exists, so a bad flag costs nothing.
     */
    public record Plan(Spec spec, TimingModel timing) {
        /** Parses {@code sim:HxP} and loads the profile and link; says why when this machine cannot simulate. */
        public static Plan of(String fleet, String profile, String link, double bytesScale, double modelGb) {
            String why = NetnsFleet.unsupportedReason();
            if (why != null) throw new IllegalStateException(why);
            int[] hp = parse(fleet);
            return new Plan(
                    new Spec(hp[0], hp[1], profile, LinkProfile.parse(link), bytesScale, modelGb),
                    Profile.load(profile).model());
        }

        /** The clock of compare's in-process engines: the hosts' timing model, each engine on cores of its own. */
        public TimingModel inProcessClock() {
            return timing.alone();
        }

        /**
         * Starts the fleet a built config needs, its hosts' logs in {@code logs}: the weight links are checked only
         * when an HTTP strategy will run.
         */
        public Fleet start(CompareConfig c, Path logs, PrintStream log) {
            return Fleet.start(spec, c.strategies().stream().anyMatch(x -> !x.inProcess()), logs, log);
        }
    }

    /** The hosts and ports of {@code sim:HxP}; a clear error for anything else. */
    public static int[] parse(String spec) {
        var m = Pattern.compile("sim:(\\d{1,3})x(\\d{1,2})").matcher(spec == null ? "" : spec);
        if (!m.matches())
            throw new IllegalArgumentException("--fleet " + spec + ": expected sim:HOSTSxPORTS, e.g. sim:8x4");
        int h = Integer.parseInt(m.group(1)), p = Integer.parseInt(m.group(2));
        if (h < 1 || h >= NetnsFleet.MAX_HOSTS || p < 1 || p > 16)
            throw new IllegalArgumentException("--fleet " + spec + ": hosts must be in [1, 199], ports in [1, 16]");
        return new int[] {h, p};
    }

    /**
     * Starts the hosts and a storage host, their logs in {@code logs}, and checks a link: the weights' rate too when
     * {@code weights} will move.
     */
    public static Fleet start(Spec s, boolean weights, Path logs, PrintStream log) {
        Profile profile = Profile.load(s.profile());
        NetnsFleet net = NetnsFleet.up(s.hosts() + 1, s.link(), s.bytesScale());
        try {
            String token = UUID.randomUUID().toString();
            log.printf(
                    "compare: %d simulated hosts x %d ports and a storage host (%s links, profile %s)%n",
                    s.hosts(), s.ports(), s.link().name(), profile.name());
            SimHosts sim = SimHosts.start(net, s.hosts() + 1, s.ports(), s.profile(), token, logs);
            var http = OpenAiClient.http(1024, Duration.ofSeconds(600), Duration.ofSeconds(30));
            LinkCheck check = LinkCheck.measure(sim, http, s.link(), s.bytesScale(), token, weights);
            if (!check.ok()) {
                sim.close();
                throw new IllegalStateException("link check failed: " + check.failure());
            }
            log.printf(
                    "compare: link check: round trip %.3f ms (profile %.3f ± %.3f), weights' rate %.1f Mbit/s "
                            + "(profile %.1f after --bytes-scale %.0f)%n",
                    check.rttMs(),
                    check.expectedRttMs(),
                    check.toleranceMs(),
                    check.rateMbit(),
                    check.expectedRateMbit(),
                    s.bytesScale());
            Fleet f = new Fleet(s, net, sim, profile, check, http, token);
            f.align();
            return f;
        } catch (RuntimeException e) {
            net.close();
            throw e;
        }
    }

    @Override
    public List<String> urls() {
        return sim.urls(spec.hosts());
    }

    @Override
    public String model() {
        return "sim";
    }

    @Override
    public List<Strategy> strategies() {
        return Propagation.STRATEGIES;
    }

    @Override
    public long version() {
        return versionOf(first);
    }

    /** The link check moved host 1 on by its probes: the others catch up, so every host serves one version. */
    private void align() {
        List<String> urls = sim.hostUrls(spec.hosts());
        long target = version();
        for (String u : urls) {
            OpenAiClient c = new OpenAiClient(http, u, null, true);
            for (long v = versionOf(c); v < target; v = versionOf(c)) {
                OpenAiClient.Exchange x =
                        c.postBytes("/admin/sim_weights", new byte[0], "application/octet-stream", admin());
                if (!x.ok())
                    throw new IllegalStateException(
                            "cannot align " + u + "'s version: " + x.status() + " " + x.error());
            }
        }
    }

    private long versionOf(OpenAiClient c) {
        OpenAiClient.Exchange x = c.getWith("/admin/reload_status", admin());
        if (x.status() != 200)
            throw new IllegalStateException(
                    "cannot read " + c.baseUrl() + "'s version: " + x.status() + " " + x.error());
        return x.json().path("weights_version").asLong();
    }

    private Map<String, String> admin() {
        return Map.of("X-Admin-Token", token);
    }

    @Override
    public Update update(Strategy strategy) {
        long real = (long) (spec.modelGb() * 1e9);
        int bytes = (int) Math.min(Integer.MAX_VALUE - 64, real / spec.bytesScale());
        propagation.push(strategy, spec.hosts(), bytes);
        return new Update(real * spec.hosts(), propagation.predictedMs(strategy, spec.hosts(), bytes));
    }

    @Override
    public List<String> assumptions() {
        return List.of(
                "the HTTP servers are " + spec.hosts() + " simulated hosts x " + spec.ports()
                        + " ports (network namespaces, one serve --engine sim per host, "
                        + "ports sharing one engine) on the timing model of profile " + profile.name()
                        + "; their tokens are random, so no logprob gap is scored",
                "links: " + spec.link().describe() + "; the delay added " + net.delay().description
                        + "; requests at the real rate, weight transfers at the rate over bytes_scale "
                        + spec.bytesScale() + " with payloads scaled alike, so a " + spec.modelGb()
                        + " GB update takes its real time",
                "bytes_per_update counts the real bytes to all hosts; predicted_propagation_ms is bytes over "
                        + "rates (every NIC at the link's rate)",
                "client, trainer and every simulated host share this machine's cores");
    }

    public Profile profile() {
        return profile;
    }

    @Override
    public LinkCheck linkCheck() {
        return check;
    }

    @Override
    public void close() {
        sim.close();
        net.close();
    }
}
