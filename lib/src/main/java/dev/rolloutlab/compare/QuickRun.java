package dev.rolloutlab.compare;

import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.model.ModelShape;
import dev.rolloutlab.results.RunFolder;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * What a notebook analyses: the newest run under {@link RunFolder#root()}, or a fresh {@code compare --quick} (or, for
 * shared prefixes, {@code compare --quick --workload sessions}) when there is none.
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

    /** The newest shared-prefix run ({@code prefix.csv}), or a quick sessions run of about a minute when none. */
    public static Path latestPrefixOrRun() throws Exception {
        Path root = RunFolder.root();
        var found = RunFolder.latestWith(root, "prefix.csv");
        if (found.isPresent()) return found.get();
        RunFolder r = RunFolder.create(
                root.resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
                        + "-compare-sessions"),
                "compare-sessions");
        CompareConfig c = CompareConfig.defaults(true).build();
        var kind = PrefixWorkload.Kind.SESSIONS;
        int max = ModelShape.parse(c.shape(), ModelConfig.Architecture.LLAMA).maxPositions();
        PrefixExperiment x = new PrefixExperiment(
                c, PrefixWorkload.defaults(kind, max, 1), r, new PrintStream(PrintStream.nullOutputStream()));
        x.run();
        r.writeRun(x.describe(), x.stopReason() != null, x.stopReason());
        return r.dir();
    }
}
