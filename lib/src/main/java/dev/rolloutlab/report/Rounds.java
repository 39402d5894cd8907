package dev.rolloutlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

/**
 * How the run repeated itself: the rounds, the rotating order of the legs within each, and each cell's mean e2el round
 * by round with its spread, so a reader sees at a glance whether a number held from one round to the next.
 */
final class Rounds {
    private Rounds() {}

    static String markdown(RunData d) {
        Table rounds = d.legRounds();
        if (rounds.isEmpty()) return "";
        int n = d.rounds();
        StringBuilder sb = new StringBuilder("\n## Rounds\n\n")
                .append(n)
                .append(" round(s) after an unrecorded warm-up. Within a round every ")
                .append("cell ran on every leg back to back, and the order of the legs rotated by one each "
                        + "round, so drift in the machine ")
                .append("hits every leg alike. Mean e2el (ms) per round; spread = (max − min) / median of the "
                        + "rounds.\n\n");
        JsonNode warming =
                d.run().map(r -> r.path("config").path("first_rounds_left_out")).orElse(null);
        if (warming != null && warming.isArray() && !warming.isEmpty()) {
            sb.append("Left out as still warming (its first round's mean e2el above every later round's by more than "
                    + "twice their range and by more than 50 %; shown here, not pooled or paired):");
            for (JsonNode w : warming)
                sb.append(String.format(
                        Locale.ROOT,
                        " %s %s %s round %d (%.1f ms against at most %.1f ms later);",
                        w.path("topology").asText(),
                        w.path("connection").asText(),
                        w.path("workload").asText(),
                        w.path("round").asInt(),
                        w.path("mean_e2el_ms").asDouble(),
                        w.path("later_max_ms").asDouble()));
            sb.setLength(sb.length() - 1);
            sb.append(".\n\n");
        }
        sb.append("| topology | connection | workload |");
        for (int r = 1; r <= n; r++) sb.append(" round ").append(r).append(" |");
        sb.append(" spread |\n|---|---|---|").append("---|".repeat(n + 1)).append('\n');
        Map<String, TreeMap<Integer, Double>> cells = new LinkedHashMap<>();
        for (Row r : rounds) {
            String key = r.getString("topology") + " | " + r.getString("connection") + " | " + r.getString("workload");
            if (!r.isMissing("mean_e2el_ms"))
                cells.computeIfAbsent(key, k -> new TreeMap<>())
                        .put((int) r.getNumber("round"), r.getNumber("mean_e2el_ms"));
        }
        cells.forEach((key, byRound) -> {
            sb.append("| ").append(key).append(" |");
            for (int r = 1; r <= n; r++) {
                Double v = byRound.get(r);
                sb.append(v == null ? " |" : String.format(Locale.ROOT, " %.2f |", v));
            }
            double[] xs = byRound.values().stream()
                    .mapToDouble(Double::doubleValue)
                    .sorted()
                    .toArray();
            double median = xs.length % 2 == 1 ? xs[xs.length / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2;
            sb.append(
                            xs.length < 2
                                    ? " |"
                                    : String.format(
                                            Locale.ROOT, " %.0f %% |", (xs[xs.length - 1] - xs[0]) / median * 100))
                    .append('\n');
        });
        return sb.toString();
    }
}
