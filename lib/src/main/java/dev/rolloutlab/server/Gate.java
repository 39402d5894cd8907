package dev.rolloutlab.server;

import java.util.function.Supplier;

/**
 * The one door to an engine's weights for one weight change: once its deadline closed it, a late change cannot land,
 * and whoever closes it learns whether the change had already installed (finishing, not stuck).
 */
final class Gate {
    private boolean open = true;
    private boolean installed;

    synchronized <T> T install(Supplier<T> doInstall) {
        if (!open) throw new IllegalStateException("the change was abandoned at its deadline");
        installed = true;
        return doInstall.get();
    }

    synchronized boolean abandoned() {
        return !open;
    }

    /** Closes the door; false when the change already installed (it is finishing, not stuck). */
    synchronized boolean close() {
        open = false;
        return !installed;
    }
}
