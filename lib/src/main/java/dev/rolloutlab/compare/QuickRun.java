package dev.rolloutlab.compare;

import dev.rolloutlab.results.RunFolder;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * What a notebook analyses: the newest run under {@link RunFolder#root()}, or a fresh {@code compare --quick} when
 * there is none.
 */
public final class QuickRun {
    private QuickRun() {}

    public static Path latestOrRun() {
        Path root = RunFolder.root();
        return RunFolder.latest(root).orElseGet(() -> {
            RunFolder r = RunFolder.create(
                    root.resolve(
                            LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-compare"),
                    "compare");
            Compare c = new Compare(
                    CompareConfig.defaults(true).build(), r, new PrintStream(PrintStream.nullOutputStream()));
            Compare.Outcome o = c.run();
            r.writeRun(c.describe(), o.incomplete(), o.reason());
            return r.dir();
        });
    }
}
