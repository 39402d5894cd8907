package dev.rolloutlab.results;

import java.util.List;
import java.util.Locale;

/** The terminal table printed at the end of a run: one line per topology and connection policy. */
public final class SummaryText {
    private SummaryText() {}

    public static String render(List<Summary> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                Locale.ROOT,
                "%-12s %-10s %-16s %5s %6s %9s %9s %9s %9s %9s %9s %9s %10s%n",
                "topology",
                "connection",
                "workload",
                "ok",
                "failed",
                "req/s",
                "tok/s",
                "ttft_ms",
                "tpot_ms",
                "e2el_ms",
                "p99_e2el",
                "connect",
                "overhead"));
        for (Summary s : rows) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%-12s %-10s %-16s %5d %6d %9.2f %9.1f %9.2f %9.2f %9.2f %9.2f %9.3f %10s%n",
                    s.topology(),
                    s.connection(),
                    s.workload(),
                    s.completed(),
                    s.failed(),
                    s.throughput().requests().estimate(),
                    s.throughput().outputTokens().estimate(),
                    s.ttft().mean().estimate(),
                    s.tpot().mean().estimate(),
                    s.e2el().mean().estimate(),
                    s.e2el().p99(),
                    s.meanConnectMs(),
                    Double.isNaN(s.overhead().estimate())
                            ? "-"
                            : String.format(Locale.ROOT, "%.3f", s.overhead().estimate())));
        }
        return sb.toString().stripTrailing();
    }
}
