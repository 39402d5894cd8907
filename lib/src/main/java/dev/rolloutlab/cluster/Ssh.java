package dev.rolloutlab.cluster;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs shell commands on hosts with the system OpenSSH client, so the user's {@code ~/.ssh/config}, agent and jump
 * hosts apply. Never prompts ({@code BatchMode=yes}); extra {@code -o} options come from the caller.
 */
public final class Ssh {
    private final List<String> options;
    private final Duration timeout;

    /** What a remote command did. */
    public record Result(int exit, String out, String err) {
        public boolean ok() {
            return exit == 0;
        }

        public String errTail() {
            String s = err.strip();
            return s.length() > 400 ? "…" + s.substring(s.length() - 400) : s;
        }
    }

    public Ssh(List<String> options, Duration timeout) {
        this.options = List.copyOf(options);
        this.timeout = timeout;
    }

    /** The exact argv for running {@code command} on {@code host} (also what {@code --dry-run} prints). */
    public List<String> argv(Inventory.Host host, String command) {
        List<String> a = new ArrayList<>(List.of("ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"));
        for (String o : options) {
            a.add("-o");
            a.add(o);
        }
        if (host.port() != 22) {
            a.add("-p");
            a.add(String.valueOf(host.port()));
        }
        if (host.identityFile() != null) {
            a.add("-i");
            a.add(host.identityFile());
        }
        if (host.jumpHost() != null) {
            a.add("-J");
            a.add(host.jumpHost());
        }
        a.add(host.sshTarget());
        a.add(command);
        return a;
    }

    public Result run(Inventory.Host host, String command) {
        try {
            Process p = new ProcessBuilder(argv(host, command))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            var out = p.getInputStream();
            var err = p.getErrorStream();
            var outF = CompletableFuture.supplyAsync(() -> read(out));
            var errF = CompletableFuture.supplyAsync(() -> read(err));
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return new Result(255, "", "ssh timed out after " + timeout.toSeconds() + " s");
            }
            return new Result(p.exitValue(), outF.join(), errF.join());
        } catch (IOException e) {
            return new Result(255, "", "cannot run ssh: " + e.getMessage() + " (is openssh-client installed?)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(255, "", "interrupted");
        }
    }

    /** Starts a long-running remote command (e.g. {@code tail -f}) with its output passed to ours. */
    public Process stream(Inventory.Host host, String command) throws IOException {
        return new ProcessBuilder(argv(host, command)).inheritIO().start();
    }

    private static String read(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** Single-quotes a word for a POSIX shell. */
    public static String quote(String s) {
        if (s.matches("[A-Za-z0-9._:/@+=,%-]+")) return s;
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
