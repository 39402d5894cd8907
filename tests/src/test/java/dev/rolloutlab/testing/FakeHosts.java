package dev.rolloutlab.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * Test hosts on this machine: one network namespace per host on a bridge, addresses 198.18.0.11.., an sshd in each
 * (except hosts asked to be broken). Created and removed by the test itself; needs root and iproute2.
 */
public final class FakeHosts implements AutoCloseable {
    private final String prefix;
    private final int n;
    private final List<Sshd> sshds = new ArrayList<>();

    public FakeHosts(int n, int brokenHost) {
        this.n = n;
        this.prefix = "rl" + (ProcessHandle.current().pid() % 10000);
        try {
            Sshd.run("ip", "link", "add", prefix + "-br", "type", "bridge");
            Sshd.run("ip", "addr", "add", "198.18.0.1/24", "dev", prefix + "-br");
            Sshd.run("ip", "link", "set", prefix + "-br", "up");
            for (int i = 1; i <= n; i++) {
                String ns = ns(i);
                Sshd.run("ip", "netns", "add", ns);
                Sshd.run("ip", "link", "add", ns + "-v", "type", "veth", "peer", "name", "eth0", "netns", ns);
                Sshd.run("ip", "link", "set", ns + "-v", "master", prefix + "-br", "up");
                Sshd.run("ip", "-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0");
                Sshd.run("ip", "-n", ns, "link", "set", "eth0", "up");
                Sshd.run("ip", "-n", ns, "link", "set", "lo", "up");
                if (i != brokenHost) sshds.add(Sshd.start(ns, address(i), 22, ns));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public String ns(int i) {
        return prefix + "-h" + i;
    }

    public static String address(int i) {
        return "198.18.0." + (10 + i);
    }

    @Override
    public void close() {
        sshds.forEach(Sshd::close);
        for (int i = 1; i <= n; i++) {
            try {
                Sshd.run("ip", "netns", "del", ns(i));
            } catch (RuntimeException ignored) {
                // already gone
            }
        }
        try {
            Sshd.run("ip", "link", "del", prefix + "-br");
        } catch (RuntimeException ignored) {
            // already gone
        }
    }
}
