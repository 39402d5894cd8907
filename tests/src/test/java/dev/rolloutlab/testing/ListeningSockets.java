package dev.rolloutlab.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What a port is bound to, read from the kernel's socket table ({@code ss -ltn}), never by connecting to other
 * addresses.
 */
public final class ListeningSockets {
    private ListeningSockets() {}

    /** An IPv4-mapped address in its IPv4 form, and every wildcard ({@code *}, {@code [::]}) as {@code 0.0.0.0}. */
    static String normalize(String a) {
        if (a.startsWith("[") && a.endsWith("]")) a = a.substring(1, a.length() - 1);
        if (a.startsWith("::ffff:")) a = a.substring(7);
        return a.equals("*") || a.equals("::") ? "0.0.0.0" : a;
    }

    /** The local addresses listening on {@code port}, e.g. {@code ["127.0.0.1"]} or {@code ["0.0.0.0"]} for any. */
    public static List<String> addresses(int port) {
        try {
            Process p = new ProcessBuilder("ss", "-ltnH", "sport = :" + port)
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError("ss failed: " + out);
            List<String> addrs = new ArrayList<>();
            for (String line : out.split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length < 4) continue;
                String local = f[3];
                addrs.add(normalize(local.substring(0, local.lastIndexOf(':'))));
            }
            return addrs;
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("cannot run ss: " + e);
        }
    }

    /** How many of this machine's connections to {@code port} the server has closed and the client still holds. */
    public static int closedByServer(int port) {
        try {
            Process p = new ProcessBuilder("ss", "-tnH", "state", "close-wait", "dport = :" + port)
                    .redirectErrorStream(true)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError("ss failed: " + out);
            return (int) out.lines().filter(l -> !l.isBlank()).count();
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("cannot run ss: " + e);
        }
    }
}
