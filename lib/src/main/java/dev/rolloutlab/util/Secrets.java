package dev.rolloutlab.util;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Comparing tokens and keys in time that does not depend on where they first differ, so timing cannot guess them. */
public final class Secrets {
    private Secrets() {}

    /** Whether {@code given} is the {@code expected} secret; a null on either side never matches. */
    public static boolean equal(String expected, String given) {
        if (expected == null || given == null) return false;
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
    }
}
