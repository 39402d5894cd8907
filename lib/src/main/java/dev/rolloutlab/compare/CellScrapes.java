package dev.rolloutlab.compare;

import dev.rolloutlab.bench.MetricsScraper;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.results.ServerMetric;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The servers' {@code /metrics} through the rounds, cell by cell: a scraper samples every server on a period, each HTTP
 * cell ends with a sample of its own however short it was, and the samples that fell inside a cell become its rows of
 * metrics.csv.
 */
final class CellScrapes {
    /** When one measured HTTP cell ran. */
    private record Cell(long startNs, long endNs, Topologies.Leg leg, String workload, int round) {}

    /** Scrapes nothing: a run without servers, or without {@code --scrape-metrics}. */
    static final CellScrapes NONE = new CellScrapes(null, 0);

    private final MetricsScraper scraper;
    private final long originNs;
    private final List<Cell> cells = new ArrayList<>();

    private CellScrapes(MetricsScraper scraper, long originNs) {
        this.scraper = scraper;
        this.originNs = originNs;
    }

    /** Starts sampling {@code servers} every {@code every}; rows are timed from {@code originNs}. */
    static CellScrapes start(List<OpenAiClient> servers, Duration every, long originNs, PrintStream log) {
        Set<String> said = new LinkedHashSet<>();
        return new CellScrapes(
                MetricsScraper.start(
                        servers,
                        every,
                        line -> { // a target without /metrics is said once
                            if (said.add(line)) log.println("compare: " + line);
                        }),
                originNs);
    }

    /** An HTTP cell on {@code leg} that began at {@code startNs} has just ended. */
    void cellEnded(long startNs, Topologies.Leg leg, String workload, int round) {
        if (scraper == null) return;
        scraper.sampleNow();
        cells.add(new Cell(startNs, System.nanoTime(), leg, workload, round));
    }

    /** Stops sampling; each sample that fell inside a cell, as that cell's row. */
    List<ServerMetric> stop() {
        if (scraper == null) return List.of();
        List<ServerMetric> rows = new ArrayList<>();
        for (MetricsScraper.Sample s : scraper.stop())
            for (Cell cell : cells)
                if (s.atNs() >= cell.startNs() && s.atNs() <= cell.endNs())
                    rows.add(s.in(
                            cell.leg().topology(), cell.leg().connection(), cell.workload(), cell.round(), originNs));
        return rows;
    }
}
