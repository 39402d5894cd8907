package dev.rolloutlab.sim;

import dev.rolloutlab.util.Await;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Simulated hosts as Linux network namespaces on this machine: {@code rlsim-h1…N}, each with one veth on the bridge
 * {@code rlsim0}, at {@code 198.19.1.i} (the benchmark range 198.18.0.0/15). Both directions of every host's link are
 * rate-limited with {@code tc htb} from a {@link LinkProfile}, so traffic between the client side (this namespace) and
 * each host is real TCP over a shaped link. The link's delay, jitter and loss come from {@code tc netem} on both ends
 * of the veth where the kernel has {@code sch_netem}; without it the hosts' own servers hold each direction's bytes
 * ({@link Delay#ENDPOINTS}), and loss is refused. Weight transfers (to or from {@link #WEIGHTS_PORT}) get the link's
 * rate divided by {@code --bytes-scale}, as their payloads are; requests keep the real rate, so scaling the weights
 * does not slow the rollouts. Needs root. Everything is removed by {@link #close} and on JVM exit (Ctrl-C), and
 * leftovers of an earlier run are removed first.
 */
public final class NetnsFleet implements AutoCloseable {
    static final String PREFIX = "rlsim";
    static final String BRIDGE = PREFIX + "0";
    public static final int MAX_HOSTS = 200;
    /**
     * The port every simulated host takes weights on (and a storage host serves them from); the tc filters key on it.
     */
    public static final int WEIGHTS_PORT = 31000;

    /** Where a link's delay is added. */
    public enum Delay {
        /** {@code tc netem} on both ends of each host's veth: the kernel's timer, and loss. */
        NETEM("tc netem on each host's veth"),
        /**
         * Inside each host's own server ({@code serve --engine sim}, {@code POST /admin/sim_link}): this kernel has no
         * sch_netem.
         */
        ENDPOINTS("inside each host's server (this kernel has no sch_netem): requests and response chunks held for "
                + "the one-way delay on a parked-then-spinning timer");

        public final String description;

        Delay(String description) {
            this.description = description;
        }
    }

    private static volatile Boolean netem;

    private final int hosts;
    private final LinkProfile link;
    private final Delay delay;
    private final double bytesScale;
    private final Thread hook = new Thread(this::teardown, "rlsim-teardown");
    private volatile boolean closed;

    private NetnsFleet(int hosts, LinkProfile link, double bytesScale, Delay delay) {
        this.hosts = hosts;
        this.link = link;
        this.delay = delay;
        this.bytesScale = bytesScale;
    }

    /** Whether this process may create namespaces (root, with ip and tc); why not otherwise. */
    public static String unsupportedReason() {
        if (!"root".equals(System.getProperty("user.name")))
            return "simulated hosts need root (network namespaces and tc); run as root, as CI does";
        for (String tool : List.of("/usr/sbin/ip", "/usr/sbin/tc", "/sbin/ip", "/sbin/tc")) {
            if (new File(tool).canExecute()) return null;
        }
        return "simulated hosts need the ip and tc tools (Debian package iproute2)";
    }

    /** Creates {@code hosts} namespaces with shaped links. */
    public static NetnsFleet up(int hosts, LinkProfile link, double bytesScale) {
        if (hosts < 1 || hosts > MAX_HOSTS)
            throw new IllegalArgumentException("hosts must be in [1, " + MAX_HOSTS + "], got " + hosts);
        if (!(bytesScale >= 1 && bytesScale <= 1e6))
            throw new IllegalArgumentException("--bytes-scale must be in [1, 1e6], got " + bytesScale);
        String why = unsupportedReason();
        if (why != null) throw new IllegalStateException(why);
        removeLeftovers();
        Delay delay = netemAvailable() ? Delay.NETEM : Delay.ENDPOINTS;
        if (link.lossPct() > 0 && delay != Delay.NETEM)
            throw new IllegalStateException("--link " + link.name() + ": loss needs tc netem, and this kernel has no "
                    + "sch_netem (the delay is added inside the hosts' servers, which cannot drop packets); "
                    + "drop loss=, or run on a kernel with netem (modprobe sch_netem)");
        NetnsFleet f = new NetnsFleet(hosts, link, bytesScale, delay);
        Runtime.getRuntime().addShutdownHook(f.hook);
        try {
            run("ip", "link", "add", BRIDGE, "type", "bridge");
            run("ip", "addr", "add", "198.19.0.1/16", "dev", BRIDGE);
            run("ip", "link", "set", BRIDGE, "up");
            // the client side's own uplink (the trainer's NIC) has the hosts' rate too: a push to all shares it
            if (link.rateMbit() > 0) shape(List.of(), BRIDGE, link, bytesScale);
            for (int i = 1; i <= hosts; i++) {
                String ns = namespace(i), veth = PREFIX + i;
                run("ip", "netns", "add", ns);
                run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns);
                run("ip", "link", "set", veth, "master", BRIDGE, "up");
                run("ip", "-n", ns, "addr", "add", address(i) + "/16", "dev", "eth0");
                run("ip", "-n", ns, "link", "set", "eth0", "up");
                run("ip", "-n", ns, "link", "set", "lo", "up");
                if (link.rateMbit() > 0) {
                    shape(List.of(), veth, link, bytesScale);
                    shape(List.of("ip", "netns", "exec", ns), "eth0", link, bytesScale);
                }
                if (delay == Delay.NETEM) {
                    f.netem(i, "add", link.rttMs());
                }
            }
            return f;
        } catch (RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /**
     * One direction of a link: an htb class at the link's rate, split into requests (up to all of it) and weight
     * transfers (the rate over {@code bytesScale}, told apart by {@link #WEIGHTS_PORT} either side), so at scale 1 the
     * two share the link as they would on a real NIC.
     */
    private static void shape(List<String> in, String dev, LinkProfile link, double bytesScale) {
        String real = kbit(link.rateMbit()),
                scaled = kbit(link.rateMbit() / bytesScale),
                burst = String.valueOf(link.burstBytes(bytesScale));
        run(concat(in, List.of("tc", "qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "10")));
        run(concat(
                in, List.of("tc", "class", "add", "dev", dev, "parent", "1:", "classid", "1:1", "htb", "rate", real)));
        run(concat(
                in,
                List.of(
                        "tc", "class", "add", "dev", dev, "parent", "1:1", "classid", "1:10", "htb", "rate", real,
                        "quantum", "60000")));
        run(concat(
                in,
                List.of(
                        "tc", "class", "add", "dev", dev, "parent", "1:1", "classid", "1:20", "htb", "rate", scaled,
                        "ceil", scaled, "burst", burst, "cburst", burst, "quantum", "60000")));
        for (String side : List.of("sport", "dport")) {
            run(concat(
                    in,
                    List.of(
                            "tc",
                            "filter",
                            "add",
                            "dev",
                            dev,
                            "parent",
                            "1:",
                            "protocol",
                            "ip",
                            "prio",
                            "1",
                            "u32",
                            "match",
                            "ip",
                            side,
                            String.valueOf(WEIGHTS_PORT),
                            "0xffff",
                            "flowid",
                            "1:20")));
        }
    }

    /**
     * Whether this kernel has {@code sch_netem}: a netem qdisc tried on the loopback of a namespace made for the probe
     * (so nothing of the machine's own is touched); asked once per JVM.
     */
    public static boolean netemAvailable() {
        Boolean known = netem;
        if (known != null) return known;
        String ns = PREFIX + "-probe";
        quietly("ip", "netns", "del", ns);
        boolean ok = exec(List.of("ip", "netns", "add", ns)).exit == 0
                && exec(List.of(
                                        "ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem",
                                        "delay", "1ms"))
                                .exit
                        == 0;
        quietly("ip", "netns", "del", ns);
        netem = ok;
        return ok;
    }

    /** Where this fleet's links get their delay. */
    public Delay delay() {
        return delay;
    }

    /** Under {@link Delay#NETEM}: every host's link now adds {@code rttMs} (the profile's jitter and loss stay). */
    void setNetem(double rttMs) {
        if (delay != Delay.NETEM) throw new IllegalStateException("this fleet's delay is " + delay + ", not netem");
        for (int i = 1; i <= hosts; i++) netem(i, "change", rttMs);
    }

    /**
     * Host {@code i}'s netem on both ends of its veth, half the round trip each way: under the htb classes where the
     * link is rate-shaped, at the root otherwise.
     */
    private void netem(int i, String verb, double rttMs) {
        List<String> args = new ArrayList<>(List.of("netem", "delay", ms(rttMs / 2), ms(link.jitterMs() / 2)));
        if (link.lossPct() > 0) args.addAll(List.of("loss", link.lossPct() + "%"));
        for (List<String> in : List.of(List.<String>of(), inHost(i))) {
            String dev = in.isEmpty() ? PREFIX + i : "eth0";
            List<List<String>> parents = link.rateMbit() > 0
                    ? List.of(List.of("parent", "1:10", "handle", "10:"), List.of("parent", "1:20", "handle", "20:"))
                    : List.of(List.of("root", "handle", "1:"));
            for (List<String> parent : parents)
                run(concat(concat(in, List.of("tc", "qdisc", verb, "dev", dev)), concat(parent, args)));
        }
    }

    private static String ms(double ms) {
        return String.format(Locale.ROOT, "%.3fms", ms);
    }

    private static String kbit(double mbit) {
        return String.format(Locale.ROOT, "%.0fkbit", Math.max(8, mbit * 1000));
    }

    public int hosts() {
        return hosts;
    }

    public LinkProfile link() {
        return link;
    }

    public double bytesScale() {
        return bytesScale;
    }

    /** Host {@code i}'s address (1-based). */
    public static String address(int i) {
        return "198.19." + (1 + (i - 1) / 250) + "." + (1 + (i - 1) % 250);
    }

    static String namespace(int i) {
        return PREFIX + "-h" + i;
    }

    /** The prefix that runs a command inside host {@code i}. */
    public List<String> inHost(int i) {
        return List.of("ip", "netns", "exec", namespace(i));
    }

    /** Namespaces, links or qdiscs of ours still present: empty after {@link #close}. */
    public static List<String> leftovers() {
        List<String> out = new ArrayList<>();
        for (String l : output("ip", "netns", "list").split("\n"))
            if (l.startsWith(PREFIX + "-")) out.add("netns " + l.split(" ")[0]);
        for (String l : output("ip", "-o", "link", "show").split("\n")) {
            String[] p = l.split(":\\s+");
            if (p.length > 1 && p[1].startsWith(PREFIX)) out.add("link " + p[1].split("@")[0]);
        }
        return out;
    }

    @Override
    public void close() {
        teardown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or ran: nothing to remove
        }
    }

    private synchronized void teardown() {
        if (closed) return;
        closed = true;
        removeLeftovers();
    }

    /**
     * Deleting a namespace deletes its veth pair and qdiscs, but the kernel finishes that after the command returns:
     * the links are deleted by name too, and this waits until none is left. Processes in a namespace are the caller's.
     */
    private static void removeLeftovers() {
        for (String l : output("ip", "netns", "list").split("\n")) {
            if (l.startsWith(PREFIX + "-")) quietly("ip", "netns", "del", l.split(" ")[0]);
        }
        for (String l : leftovers()) if (l.startsWith("link ")) quietly("ip", "link", "del", l.substring(5));
        Await.until(() -> leftovers().isEmpty(), Duration.ofSeconds(10));
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static void run(String... cmd) {
        run(List.of(cmd));
    }

    private static void run(List<String> cmd) {
        Result r = exec(cmd);
        if (r.exit != 0)
            throw new IllegalStateException(String.join(" ", cmd) + " failed (" + r.exit + "): " + r.out.trim());
    }

    private static void quietly(String... cmd) {
        exec(List.of(cmd));
    }

    private static String output(String... cmd) {
        return exec(List.of(cmd)).out;
    }

    private record Result(int exit, String out) {}

    private static Result exec(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            return new Result(-1, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }
}
