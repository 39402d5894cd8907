package dev.rolloutlab.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
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

    /**
     * A process that reads its token as it starts gets the file; once it has started, or failed to, the file is gone.
     */
    @Test
    void aHandedOverSecretIsOnDiskOnlyWhileItsReaderStarts(@TempDir Path dir) {
        Path file = dir.resolve("logs/admin.token");
        String read = Secrets.handOver(file, "s3cret-token", f -> {
            try {
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
                return Files.readString(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertEquals("s3cret-token", read);
        assertFalse(Files.exists(file), "gone once started");
        var e = assertThrows(
                IllegalStateException.class,
                () -> Secrets.handOver(file, "s3cret-token", f -> {
                    throw new IllegalStateException("did not start");
                }));
        assertEquals("did not start", e.getMessage());
        assertFalse(Files.exists(file), "gone after a start that failed");
    }
}
