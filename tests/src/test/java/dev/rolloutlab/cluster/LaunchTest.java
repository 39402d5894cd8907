package dev.rolloutlab.cluster;

import static org.junit.jupiter.api.Assertions.*;

import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.testing.FakeHosts;
import dev.rolloutlab.testing.Processes;
import dev.rolloutlab.testing.Sshd;
import dev.rolloutlab.testing.TestModels;
import dev.rolloutlab.util.Await;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.Ports;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** launch over a real OpenSSH sshd: on loopback, and across network-namespace hosts with one broken. */
class LaunchTest {
    static final OkHttpClient HTTP = OpenAiClient.http(4, Duration.ofSeconds(5));

    static int freeBase(int n) {
        return Ports.freeBlocks(1, n).get(0);
    }

    static List<String> sshArgs() {
        List<String> a = new ArrayList<>();
        for (String o : Sshd.sshOptions()) {
            a.add("--ssh-option");
            a.add(o);
        }
        return a;
    }

    static String[] launch(String action, List<String> common, String... extra) {
        List<String> a = new ArrayList<>(List.of("launch", action));
        a.addAll(common);
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void upStatusLogsDownOnALoopbackSshd() throws Exception {
        Assumptions.assumeTrue(Sshd.available(), "needs root and /usr/sbin/sshd (tests/bin/provision installs it)");
        int sshPort = Ports.free(1).get(0);
        int base = freeBase(2);
        Path wd = TestModels.tempDir("launch-wd");
        try (Sshd sshd = Sshd.start("loopback", "127.0.0.1", sshPort, null)) {
            List<String> common = new ArrayList<>(List.of(
                    "--hosts",
                    "root@127.0.0.1:" + sshPort,
                    "--identity-file",
                    Sshd.userKey().toString(),
                    "--template",
                    "rollout-lab-serve",
                    "--set",
                    "num_servers=2",
                    "--set",
                    "base_port=" + base,
                    "--set",
                    "host=127.0.0.1",
                    "--set",
                    "model=" + TestModels.tiny(),
                    "--workdir",
                    wd.toString(),
                    "--timeout-sec",
                    "120"));
            common.addAll(sshArgs());

            Processes.Run dry = Processes.run(60, launch("up", common, "--dry-run"));
            assertEquals(0, dry.exit(), dry.err());
            assertTrue(dry.out().startsWith("ssh -o BatchMode=yes"), dry.out());
            assertTrue(dry.out().contains("setsid nohup"), dry.out());

            Processes.Run up = Processes.run(180, launch("up", common));
            assertEquals(0, up.exit(), up.out() + up.err());
            assertEquals(
                    2,
                    up.out()
                            .lines()
                            .filter(l -> l.contains(" up ") || l.matches(".*\\d+\\s+up\\s*.*"))
                            .count(),
                    up.out());
            for (int p : List.of(base, base + 1)) {
                assertEquals(
                        200,
                        new OpenAiClient(HTTP, "http://127.0.0.1:" + p, null, true)
                                .get("/v1/models")
                                .status());
            }
            assertTrue(Files.exists(wd.resolve("rollout-lab-serve.pid")));

            Processes.Run again = Processes.run(60, launch("up", common));
            assertEquals(1, again.exit(), "a second up on a running host is refused");
            assertTrue(again.out().contains("already running"), again.out());

            Processes.Run st = Processes.run(60, launch("status", common));
            assertEquals(0, st.exit(), st.out() + st.err());
            Processes.Run logs = Processes.run(60, launch("logs", common));
            assertEquals(0, logs.exit());
            assertTrue(logs.out().contains("READY: servers=2"), logs.out());

            Processes.Run down = Processes.run(60, launch("down", common));
            assertEquals(0, down.exit(), down.out() + down.err());
            assertTrue(down.out().contains("stopped"), down.out());
            assertTrue(
                    Await.until(
                            () -> new OpenAiClient(HTTP, "http://127.0.0.1:" + base, null, true)
                                            .get("/v1/models")
                                            .status()
                                    == -1,
                            Duration.ofSeconds(10)),
                    "nothing left listening");
        }
    }

    @Test
    void threeHostsOneBrokenReportsTwoUpAndOneFailed() throws Exception {
        Assumptions.assumeTrue(
                Sshd.available()
                        && (Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip"))),
                "needs root, sshd and iproute2");
        Path wd = TestModels.tempDir("launch-multi");
        try (FakeHosts hosts = new FakeHosts(3, 3)) {
            Path inv = wd.resolve("inventory.yaml");
            Files.writeString(inv, """
                    defaults:
                      user: root
                      identity_file: %s
                    hosts:
                      - {name: h1, address: %s, workdir: %s/h1}
                      - {name: h2, address: %s, workdir: %s/h2}
                      - {name: h3, address: %s, workdir: %s/h3}
                    """.formatted(
                    Sshd.userKey(), FakeHosts.address(1), wd, FakeHosts.address(2), wd, FakeHosts.address(3), wd));
            List<String> common = new ArrayList<>(List.of(
                    "--inventory",
                    inv.toString(),
                    "--template",
                    "rollout-lab-serve",
                    "--set",
                    "num_servers=1",
                    "--set",
                    "base_port=31000",
                    "--set",
                    "model=" + TestModels.tiny(),
                    "--set",
                    "host=0.0.0.0",
                    "--timeout-sec",
                    "120"));
            common.addAll(sshArgs());
            try {
                Processes.Run up = Processes.run(240, launch("up", common));
                assertEquals(1, up.exit(), "not all hosts came up: " + up.out() + up.err());
                List<String> rows = up.out().lines().toList();
                assertTrue(rows.stream().anyMatch(l -> l.startsWith("h1 ") && l.contains(" up")), up.out());
                assertTrue(rows.stream().anyMatch(l -> l.startsWith("h2 ") && l.contains(" up")), up.out());
                assertTrue(
                        rows.stream()
                                .anyMatch(
                                        l -> l.startsWith("h3 ") && l.contains("failed") && l.contains("ssh exit 255")),
                        up.out());
                assertTrue(up.err().contains("2 host(s) up, 1 failed"), up.err());
                assertEquals(
                        200,
                        new OpenAiClient(HTTP, "http://" + FakeHosts.address(1) + ":31000", null, true)
                                .get("/v1/models")
                                .status());
            } finally {
                Processes.Run down = Processes.run(120, launch("down", common));
                assertTrue(down.out().contains("stopped") || down.out().contains("killed"), down.out());
            }
        }
    }

    @Test
    void malformedInventoriesNameTheLineAndField() throws Exception {
        Path d = TestModels.tempDir("inv");
        Path bad = d.resolve("bad.yaml");
        Files.writeString(bad, "hosts:\n  - {name: a, address: 10.0.0.1\n  - oops: [\n");
        var e = assertThrows(IllegalArgumentException.class, () -> Inventory.read(bad));
        assertTrue(e.getMessage().contains("line"), e.getMessage());
        Path noAddr = d.resolve("noaddr.yaml");
        Files.writeString(noAddr, "hosts:\n  - {name: a, user: root}\n");
        var e2 = assertThrows(IllegalArgumentException.class, () -> Inventory.read(noAddr));
        assertTrue(e2.getMessage().contains("hosts[0]") && e2.getMessage().contains("address"), e2.getMessage());
        Path badPort = d.resolve("port.yaml");
        Files.writeString(badPort, "hosts:\n  - {address: 10.0.0.1, port: twenty}\n");
        var e3 = assertThrows(IllegalArgumentException.class, () -> Inventory.read(badPort));
        assertTrue(e3.getMessage().contains("port"), e3.getMessage());
        Processes.Run r = Processes.run(60, "launch", "up", "--inventory", noAddr.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("address"), r.err());
    }

    @Test
    void gcloudDescribeJsonYieldsEveryWorker() throws Exception {
        Path f = Path.of("src/test/resources/fixtures/tpu-vm-describe-v4-16.json");
        Inventory inv = Inventory.read(f);
        assertEquals(
                List.of("10.130.0.21", "10.130.0.20"),
                inv.hosts().stream().map(Inventory.Host::address).toList());
        assertEquals("root", inv.hosts().get(0).user());
        Inventory ext = Inventory.fromGcloud(Json.parse(Files.readString(f)), "root", 22, null, true);
        assertEquals(
                List.of("34.56.78.90", "34.56.78.91"),
                ext.hosts().stream().map(Inventory.Host::address).toList());
    }
}
