package dev.rolloutlab.commands;

import dev.rolloutlab.report.PrefixReport;
import dev.rolloutlab.report.Report;
import dev.rolloutlab.results.RunFolder;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code report DIR}: plots and REPORT.md from a results folder (the newest under results/ when omitted). */
@Command(
        name = "report",
        mixinStandardHelpOptions = true,
        description = "Write plots/*.png and REPORT.md for a results folder.")
public final class ReportCommand implements Callable<Integer> {
    @Parameters(arity = "0..1", paramLabel = "DIR", description = "Results folder. Default: the newest under results/.")
    Path dir;

    @Override
    public Integer call() {
        Path d = dir != null
                ? dir
                : RunFolder.latest(RunFolder.root())
                        .orElseThrow(() ->
                                new Cli.UserError("no results folder under results/; run compare first or name one"));
        Path md = java.nio.file.Files.exists(d.resolve("prefix.csv")) ? PrefixReport.write(d) : Report.write(d);
        System.out.println(md);
        return 0;
    }
}
