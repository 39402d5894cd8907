package dev.rolloutlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.results.Confidence;
import dev.rolloutlab.results.Connection;
import java.util.Locale;
import tech.tablesaw.api.Row;

/**
 * Like against like: what computes behind each topology, and each HTTP leg's overhead over the in-process topology with
 * the same engines, as a paired difference with its interval. A negative overhead is shown with the reason it can
 * happen, never as a bare number.
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
        for (Row r : d.legs()) {
            String t = r.getString("topology"),
                    c = r.getString("connection"),
                    w = r.getString("workload"),
                    base = d.baseline(t);
            if (base == null || r.isMissing("mean_e2el_ms")) continue;
            Confidence.Interval ci = Pairs.e2elDifference(d, t, c, base, Connection.NONE.wire(), w);
            if (ci == null) continue;
            rows.append(String.format(
                    Locale.ROOT,
                    "| %s | %s | %s | %s | %+.2f | [%.2f, %.2f] | %s |%n",
                    t,
                    c,
                    w,
                    base,
                    ci.estimate(),
                    ci.low(),
                    ci.high(),
                    explain(ci)));
        }
        if (rows.isEmpty()) return sb.toString();
        sb.append("\n## HTTP overhead over in-process (paired)\n\nMean e2el of the HTTP leg minus its "
                        + "in-process baseline, request by request ")
                .append("over the same prompts in the same rounds. Requests in flight together share engine "
                        + "batches, so the differences ")
                .append("are averaged over blocks of `concurrency` consecutive requests and the 95 % t "
                        + "interval is over those blocks.\n\n")
                .append("| topology | connection | workload | baseline | overhead (ms) | 95 % CI | reading "
                        + "|\n|---|---|---|---|---|---|---|\n")
                .append(rows);
        return sb.toString();
    }

    private static String explain(Confidence.Interval ci) {
        String v = Confidence.verdict(ci, "ms");
        if (ci.estimate() >= 0) return v.equals("confirmed") ? "HTTP slower" : v;
        return (v.equals("contradicted") ? "in-process slower here" : v)
                + "; a negative overhead means the in-process leg was slower: its "
                + "engines share this JVM with the load generator, whose threads compete with them for the same cores";
    }
}
