package dev.rolloutlab.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real OpenSSH server for tests: its own host key, key-only login for the current user (root in CI), listening on a
 * loopback port or inside a network namespace. Installed by tests/bin/provision from Debian's openssh-server.
 */
public final class Sshd implements AutoCloseable {
    public static final Path SSHD = Path.of("/usr/sbin/sshd");
    private final Process process;
    public final Path dir;
    public final int port;
    public final String address;

    private Sshd(Process process, Path dir, String address, int port) {
        this.process = process;
        this.dir = dir;
        this.address = address;
        this.port = port;
    }

    public static boolean available() {
        return Files.isExecutable(SSHD) && "root".equals(System.getProperty("user.name"));
    }

    /** A user key pair shared by every sshd of this test JVM: {@code dir/userkey}. */
    public static synchronized Path userKey() {
        Path dir = Path.of("target", "ssh").toAbsolutePath();
        Path key = dir.resolve("userkey");
        try {
            Files.createDirectories(dir);
            if (!Files.exists(key)) run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.toString());
            return key;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts sshd on {@code address:port}, optionally inside network namespace {@code netns}. */
    public static Sshd start(String name, String address, int port, String netns) {
        try {
            Path dir = Path.of("target", "ssh", name).toAbsolutePath();
            Files.createDirectories(dir);
            Files.createDirectories(Path.of("/run/sshd"));
            Path hostKey = dir.resolve("hostkey");
            if (!Files.exists(hostKey)) run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey.toString());
            Path auth = dir.resolve("authorized_keys");
            Files.copy(Path.of(userKey() + ".pub"), auth, StandardCopyOption.REPLACE_EXISTING);
            Path cfg = dir.resolve("sshd_config");
            Files.writeString(
                    cfg,
                    String.join(
                                    "\n",
                                    "Port " + port,
                                    "ListenAddress " + address,
                                    "HostKey " + hostKey,
                                    "PidFile " + dir.resolve("sshd.pid"),
                                    "AuthorizedKeysFile " + auth,
                                    "PermitRootLogin prohibit-password",
                                    "PasswordAuthentication no",
                                    "KbdInteractiveAuthentication no",
                                    "UsePAM no",
                                    "StrictModes no",
                                    "LogLevel ERROR",
                                    "")
                            + "\n");
            List<String> cmd = netns == null
                    ? List.of(SSHD.toString(), "-D", "-e", "-f", cfg.toString())
                    : List.of("ip", "netns", "exec", netns, SSHD.toString(), "-D", "-e", "-f", cfg.toString());
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("sshd.log").toFile())
                    .start();
            Sshd s = new Sshd(p, dir, address, port);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                if (!p.isAlive())
                    throw new IllegalStateException("sshd exited: " + Files.readString(dir.resolve("sshd.log")));
                try (Socket sock = new Socket(address, port)) {
                    return s;
                } catch (IOException notYet) {
                    Thread.sleep(50);
                }
            }
            s.close();
            throw new IllegalStateException("sshd did not listen on " + address + ":" + port);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** ssh options for a throwaway host key. */
    public static List<String> sshOptions() {
        return List.of("StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null", "LogLevel=ERROR");
    }

    public static void run(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process.destroyForcibly();
    }
}
