package dev.rolloutlab.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens: compared whole, and written where only their owner reads them. */
class SecretsTest {
    @Test
    void onlyTheSameSecretMatchesAndANullNever() {
        assertTrue(Secrets.equal("s3cret-token", "s3cret-token"));
        assertFalse(Secrets.equal("s3cret-token", "s3cret-tokeN"));
        assertFalse(Secrets.equal("s3cret-token", "s3cret"));
        assertFalse(Secrets.equal(null, null));
        assertFalse(Secrets.equal("s3cret-token", null));
    }

    /** A file another user could read before (the umask's 644) is replaced, not reused with its permissions. */
    @Test
    void aSecretReplacesAReadableFileWithOneOnlyItsOwnerReads(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("new/admin.token");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "old");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(file, Secrets.writeOwnerOnly(file, "s3cret-token"));
        assertEquals("s3cret-token", Files.readString(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }
}
