package dev.rolloutlab.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reading a child process's log while it runs: the text so far, or empty before the file exists. */
public final class Logs {
    private Logs() {}

    public static String read(Path f) {
        try {
            return Files.exists(f) ? Files.readString(f) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
