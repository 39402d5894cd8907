package dev.rolloutlab.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Free loopback ports for servers we are about to start (the usual small race: bind soon after asking). */
public final class Ports {
    private Ports() {}

    public static List<Integer> free(int n) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) held.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
            return held.stream().map(ServerSocket::getLocalPort).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : held) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // released for the server
                }
            }
        }
    }

    public static int free() {
        return free(1).get(0);
    }

    /**
     * {@code n} bases of {@code size} consecutive free ports each, in 20000–32767: below Linux's ephemeral range, so
     * client connections opened later cannot take a port of the block (servers given {@code base..base+size-1}).
     */
    public static List<Integer> freeBlocks(int n, int size) {
        List<Integer> out = new ArrayList<>();
        int base = 20000 + new Random().nextInt(400) * 16;
        for (int tries = 0; out.size() < n && tries < 2000; tries++, base += size * 2) {
            if (base + size > 32767) base = 20000 + (base % 97);
            boolean free = true;
            for (int p = base; p < base + size && free; p++) {
                try (ServerSocket s = new ServerSocket(p, 1, InetAddress.getLoopbackAddress())) {
                    s.setReuseAddress(true);
                } catch (IOException e) {
                    free = false;
                }
            }
            if (free) out.add(base);
        }
        if (out.size() < n)
            throw new IllegalStateException("not enough free port blocks of " + size + " in 20000-32767");
        return out;
    }
}
