package dev.rolloutlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Connection;
import dev.rolloutlab.results.Verdict;
import java.util.Locale;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

/**
 * Like against like: what computes behind each topology, and each HTTP leg's tax over the in-process topology with the
 * same engines, as a paired difference with its interval and verdict, beside the e2el difference that also carries the
 * engine's compute variation.
 */
final class Overheads {
    private Overheads() {}

    static String markdown(RunData d) {
        StringBuilder sb = new StringBuilder();
        d.run()
                .map(r -> r.path("config").path("compute"))
                .filter(JsonNode::isObject)
                .ifPresent(c -> {
                    sb.append("\n## Compute behind each topology\n\n| topology | engines, JVMs, threads, cores "
                            + "|\n|---|---|\n");
                    c.properties()
                            .forEach(e -> sb.append("| ")
                                    .append(e.getKey())
                                    .append(" | ")
                                    .append(e.getValue().asText())
                                    .append(" |\n"));
                    sb.append("\nEach HTTP topology is compared with the in-process one running as many "
                                    + "engines: http1 with inproc, httpN and lb ")
                            .append("with inprocN.\n");
                });
        StringBuilder rows = new StringBuilder();
        Table legs = d.legs();
        for (Row r : legs) {
            String t = r.getString("topology"),
                    c = r.getString("connection"),
                    w = r.getString("workload"),
                    base = d.baseline(t);
            if (base == null || r.isMissing("mean_e2el_ms")) continue;
            Confidence.Interval tax = Pairs.overBaseline(d, Pairs.Metric.TAX, t, c, w);
            Confidence.Interval e2el = Pairs.e2elDifference(d, t, c, base, Connection.NONE.wire(), w);
            if (tax == null && e2el == null) continue;
            rows.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %s | %s | %s | %s | %s |%n",
                    t,
                    c,
                    w,
                    base,
                    interval(tax),
                    tax == null ? "" : Verdict.describe(tax, Findings.threshold(d, legs, t, w), "ms"),
                    interval(e2el)));
        }
        if (rows.isEmpty()) return sb.toString();
        sb.append("\n## HTTP's tax over in-process (paired)\n\nEach request's tax is its e2el minus the engine's own "
                        + "queue, prefill and decode, which both modes measure with the same engine code; the table ")
                .append("gives the HTTP leg's tax minus its in-process baseline's, request by request over the same "
                        + "prompts in the same rounds, with a verdict against T = the larger of 1 ms and 2 % of the ")
                .append("baseline's e2el. The e2el difference beside it also carries the engine's compute variation "
                        + "between legs (on a noisy machine, ±15–20 % of the engine's time), so it can take either ")
                .append("sign on long cells whatever HTTP costs: read HTTP's cost from the tax. The tax difference "
                        + "is the interquartile mean of the pairs (the mean of their middle half): a stall of tens of ")
                .append("ms (the hypervisor, a collection) lands on a few requests of either leg at random, and a "
                        + "plain mean moves with how many a run caught (the mean tax per leg is `http_tax_ms` in ")
                .append("summary.csv). Its 95 % interval is a bootstrap that resamples rounds and, within them, blocks "
                        + "of `concurrency` consecutive requests, which share engine batches. The e2el difference's ")
                .append("interval is a t interval over those blocks.\n\n")
                .append("| topology | connection | workload | baseline | tax difference (ms), 95 % CI | reading | "
                        + "e2el difference (ms, includes compute variation), 95 % CI |\n"
                        + "|---|---|---|---|---|---|---|\n")
                .append(rows);
        return sb.toString();
    }

    /** "+1.23 [0.98, 1.48]", or empty for no interval. */
    static String interval(Confidence.Interval ci) {
        return ci == null ? "" : String.format(Locale.ROOT, "%+.2f [%.2f, %.2f]", ci.estimate(), ci.low(), ci.high());
    }
}
