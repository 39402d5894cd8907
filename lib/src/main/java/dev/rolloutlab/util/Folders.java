package dev.rolloutlab.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Work folders a run makes for itself and removes when done: weights' copies, temporary profiles, half-made models. */
public final class Folders {
    private Folders() {}

    /**
     * Deletes {@code tree} and what it holds, as far as it can: a leftover work folder is harmless, while a cleanup
     * that threw would hide the error that led to it.
     */
    public static void deleteQuietly(Path tree) {
        if (!Files.exists(tree)) return;
        try (Stream<Path> walk = Files.walk(tree)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // best effort, as above
        }
    }
}
