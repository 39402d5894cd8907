package dev.rolloutlab.report;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

/**
 * The report's honesty sections, read from requests.jsonl: which legs failed and with what first error, and what a
 * target could not report (TTFT when it ignored {@code stream}, token counts when it sent no {@code usage}) and how the
 * run filled in or left out each figure.
 */
final class Limitations {
    private Limitations() {}

    static String markdown(RunData d) {
        Table req = d.requests();
        StringBuilder sb = new StringBuilder();
        Map<String, int[]> failed = new LinkedHashMap<>(); // leg -> {failed, total}
        Map<String, String> firstError = new LinkedHashMap<>();
        Map<String, int[]> noTtft = new LinkedHashMap<>(),
                counted = new LinkedHashMap<>(),
                unknown = new LinkedHashMap<>();
        for (Row r : req) {
            String leg = r.getString("topology") + " " + r.getString("connection") + " (" + endpoint(r) + ")";
            int[] f = failed.computeIfAbsent(leg, k -> new int[2]);
            f[1]++;
            if (!r.getBoolean("ok")) {
                f[0]++;
                firstError.putIfAbsent(
                        leg,
                        r.getString("error").isEmpty() ? "HTTP " + (long) r.getNumber("status") : r.getString("error"));
                continue;
            }
            if (!r.isMissing("first_token_ns") && r.getNumber("first_token_ns") < 0)
                noTtft.computeIfAbsent(leg, k -> new int[1])[0]++;
            String from = r.getString("tokens_from");
            if (from.equals("tokenizer")) counted.computeIfAbsent(leg, k -> new int[1])[0]++;
            else if (from.equals("unknown")) unknown.computeIfAbsent(leg, k -> new int[1])[0]++;
        }
        if (failed.values().stream().anyMatch(f -> f[0] > 0)) {
            sb.append("\n## Failures\n\n| leg | failed | of | first error |\n|---|---|---|---|\n");
            failed.forEach((leg, f) -> {
                if (f[0] > 0)
                    sb.append(String.format(
                            Locale.ROOT,
                            "| %s | %d | %d | %s |%n",
                            leg,
                            f[0],
                            f[1],
                            firstError.get(leg).replace("|", "\\|").replace("\n", " ")));
            });
            sb.append("\nA leg whose first requests all failed the same way was stopped early; its other cells "
                    + "were not run.\n");
        }
        if (!noTtft.isEmpty() || !counted.isEmpty() || !unknown.isEmpty()) {
            sb.append("\n## What this target could not report\n\n");
            noTtft.forEach((leg, n) -> sb.append(String.format(
                    Locale.ROOT,
                    "- %s: TTFT not measured for %d request(s): the target answered "
                            + "`stream: true` with one JSON body, so there is no first token to time (TTFT "
                            + "and TPOT are left empty, not taken from e2el).%n",
                    leg,
                    n[0])));
            counted.forEach((leg, n) -> sb.append(String.format(
                    Locale.ROOT,
                    "- %s: no `usage` in %d answer(s): completion tokens counted " + "with the model's tokenizer.%n",
                    leg,
                    n[0])));
            unknown.forEach((leg, n) -> sb.append(String.format(
                    Locale.ROOT,
                    "- %s: no `usage` in %d answer(s) and no tokenizer for the served "
                            + "model (pass --model DIR): completion tokens unknown, so output throughput and "
                            + "TPOT are left empty.%n",
                    leg,
                    n[0])));
        }
        return sb.toString();
    }

    private static String endpoint(Row r) {
        String e = r.getString("endpoint");
        return e.isEmpty() ? "completions" : e;
    }
}
