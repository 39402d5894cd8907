package dev.rolloutlab.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code serve} in a child JVM, started and waited for: the one way experiments start their own servers.
 * {@code twinUrls} are its zero-compute twins' ports ({@code serve --zero-compute-twins}), empty without them.
 */
public record ServeProcess(ChildJvm jvm, List<String> urls, List<String> twinUrls) implements AutoCloseable {

    /**
     * Starts {@code serve args…}, adding {@code --ready-file}, and returns once every port listens (or fails with the
     * log tail).
     */
    public static ServeProcess start(List<String> serveArgs, Path logFile, Duration readyTimeout) {
        return start(List.of(), List.of(), serveArgs, logFile, readyTimeout);
    }

    /** The same under a command prefix (e.g. {@code ip netns exec NS}) and with extra JVM flags. */
    public static ServeProcess start(
            List<String> prefix, List<String> jvmFlags, List<String> serveArgs, Path logFile, Duration readyTimeout) {
        Path ready = logFile.resolveSibling(logFile.getFileName() + ".ready.json");
        try {
            Files.deleteIfExists(ready); // an earlier run's file would pass for this one's
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + ready + ": " + e.getMessage(), e);
        }
        List<String> args = new ArrayList<>(serveArgs);
        args.add("--ready-file");
        args.add(ready.toString());
        ChildJvm jvm = ChildJvm.start(prefix, jvmFlags, "serve", args, logFile);
        List<String> urls = new ArrayList<>(), twins = new ArrayList<>();
        var r = jvm.awaitReadyFile(ready, readyTimeout);
        r.path("urls").forEach(u -> urls.add(u.asText()));
        r.path("twin_urls").forEach(u -> twins.add(u.asText()));
        return new ServeProcess(jvm, List.copyOf(urls), List.copyOf(twins));
    }

    @Override
    public void close() {
        jvm.close();
    }
}
