package dev.rolloutlab.testing;

import java.util.ArrayList;
import java.util.List;

/** What a test opened (servers, balancers, fixtures), closed last first; a field marked {@code @AutoClose}. */
public final class Opened implements AutoCloseable {
    private final List<AutoCloseable> open = new ArrayList<>();

    /** Keeps {@code c} to close after the test; returns it. */
    public <T extends AutoCloseable> T keep(T c) {
        open.add(c);
        return c;
    }

    @Override
    public void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
        open.clear();
    }
}
