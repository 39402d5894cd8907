package dev.rolloutlab.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.function.Function;

/**
 * Tokens and keys: compared in time that does not depend on where they first differ, so timing cannot guess them, and
 * written where only this user can read them.
 */
public final class Secrets {
    private Secrets() {}

    /** Whether {@code given} is the {@code expected} secret; a null on either side never matches. */
    public static boolean equal(String expected, String given) {
        if (expected == null || given == null) return false;
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes {@code secret} to {@code file}, replacing what is there, in a file only this user can read from the moment
     * it exists (one narrowed after it is written is readable in between; a token on a command line is visible to every
     * user of the machine); returns the file.
     */
    public static Path writeOwnerOnly(Path file, String secret) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            return Files.writeString(file, secret);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a secret to " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Starts what reads {@code secret} from a file as it starts: {@code start} gets the file ({@link #writeOwnerOnly}),
     * which is gone when it returns or throws, so no token outlives the start on disk (nor lands in a results folder).
     */
    public static <T> T handOver(Path file, String secret, Function<Path, T> start) {
        Path f = writeOwnerOnly(file, secret);
        try {
            return start.apply(f);
        } finally {
            f.toFile().delete();
        }
    }
}
