package dev.rolloutlab.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.bench.SteadyState;
import dev.rolloutlab.results.Percentiles;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import tech.tablesaw.api.Row;
import tech.tablesaw.api.Table;

/**
 * Whether the run measured the targets or itself: a load generator that fell behind its schedule sets the pace
 * (client-bound), and a machine whose speed changed during the run (a fixed calibration timed before and after, CPU
 * stolen by the hypervisor) makes legs run at different times incomparable, a server measured while its JIT still sped
 * it up (a warm-up that hit its time cap) reads slow in the first rounds, and equal engines that computed at different
 * speeds make e2el differences say more than HTTP.
 */
public final class SelfChecks {
    /** Send lag above this means the client, not the target, decided when requests went out. */
    public static final double CLIENT_BOUND_MS = 1.0;
    /** A calibration that moved more than this fraction means the machine's speed changed under the run. */
    public static final double CALIBRATION_DRIFT = 0.10;
    /** Stolen CPU per leg above this is a noisy neighbour, not rounding. */
    public static final double STEAL_MS = 100;
    /**
     * Equal engines whose own time (median prefill + decode on the same cell) differs by more than this factor computed
     * unequally: more than the ±25 % a cloud VM's windows vary by, so a process, not the window, made the difference.
     */
    public static final double ENGINE_RATIO = 1.5;

    private SelfChecks() {}

    /**
     * The in-process engines' JVM against serve's: equal engines are equal processes only when the flags that set their
     * speed (collector, heap, vector module) are the same.
     */
    static Optional<String> unalike(JsonNode processes) {
        List<String> in = null, serve = null;
        for (JsonNode p : processes) {
            List<String> flags = new ArrayList<>();
            p.path("jvm_flags").forEach(f -> flags.add(f.asText()));
            if (p.path("role").asText().startsWith("in-process")) in = flags;
            else if (p.path("role").asText().equals("serve")) serve = flags;
        }
        if (in == null || serve == null || new TreeSet<>(in).equals(new TreeSet<>(serve))) return Optional.empty();
        List<String> onlyIn = new ArrayList<>(in), onlyServe = new ArrayList<>(serve);
        onlyIn.removeAll(serve);
        onlyServe.removeAll(in);
        return Optional.of("processes not started alike: the in-process engines' JVM runs with " + onlyIn
                + " where serve's runs with " + onlyServe + "; equal engines in unequal JVMs differ in more than HTTP");
    }

    /**
     * The in-process engine against serve's first port, cell by cell: the same engine code on the same model and
     * prompts, so their own time should agree; where it does not, e2el differences carry the gap (HTTP's tax does not).
     */
    static List<String> enginesUnalike(RunData d) {
        Table t = d.requests();
        if (!t.containsColumn("server_timing_prefill_ms") || !t.containsColumn("prompt_tokens")) return List.of();
        Map<String, List<Double>> in = new TreeMap<>(), http = new TreeMap<>();
        for (Row r : t) {
            if (!r.getBoolean("ok")
                    || r.isMissing("server_timing_prefill_ms")
                    || r.isMissing("server_timing_decode_ms")) continue;
            Map<String, List<Double>> side = switch (r.getString("topology")) {
                case "inproc" -> in;
                case "http1" -> http;
                default -> null;
            };
            if (side == null) continue;
            String cell =
                    "in=" + (long) r.getNumber("prompt_tokens") + " out=" + (long) r.getNumber("completion_tokens");
            side.computeIfAbsent(cell, k -> new ArrayList<>())
                    .add(r.getNumber("server_timing_prefill_ms") + r.getNumber("server_timing_decode_ms"));
        }
        List<String> out = new ArrayList<>();
        in.forEach((cell, xs) -> {
            List<Double> ys = http.get(cell);
            if (ys == null || xs.size() < 20 || ys.size() < 20) return; // a median needs 20 (Percentiles.reported)
            double a = Percentiles.median(xs), b = Percentiles.median(ys);
            if (a > ENGINE_RATIO * b || b > ENGINE_RATIO * a)
                out.add(String.format(
                        Locale.ROOT,
                        "engines unalike: on %s the in-process engine computed for %.2f ms (median prefill + decode) "
                                + "where serve's took %.2f ms (%.1f×); e2el differences there carry that gap, HTTP's "
                                + "tax does not",
                        cell,
                        a,
                        b,
                        a / b));
        });
        return out;
    }

    /**
     * Prompt tokens the targets served from a prefix cache, per leg: the grid sends the same prompts in every round and
     * on every leg, so a target that caches them answers lookups where the in-process engines (which keep no cache)
     * prefill; an external server keeps one unless it is started without.
     */
    static List<String> prefixCacheHits(RunData d) {
        Table t = d.requests();
        if (!t.containsColumn("server_timing_cached_tokens")) return List.of();
        Map<String, double[]> byLeg = new TreeMap<>(); // {cached, prompt}
        for (Row r : t) {
            if (r.isMissing("server_timing_cached_tokens") || r.isMissing("prompt_tokens")) continue;
            double[] s = byLeg.computeIfAbsent(
                    r.getString("topology") + " " + r.getString("connection"), k -> new double[2]);
            s[0] += Math.max(0, r.getNumber("server_timing_cached_tokens"));
            s[1] += r.getNumber("prompt_tokens");
        }
        List<String> out = new ArrayList<>();
        byLeg.forEach((leg, s) -> {
            if (s[0] > 0)
                out.add(String.format(
                        Locale.ROOT,
                        "prefix cache: %s's targets served %.0f of %.0f prompt tokens (%.1f %%) from a prefix cache; "
                                + "the grid repeats its prompts, so those requests measured lookups, not prefill: "
                                + "start the targets without one (serve --prefix-cache-mb 0, sglang "
                                + "--disable-radix-cache)",
                        leg,
                        s[0],
                        s[1],
                        100 * s[0] / s[1]));
        });
        return out;
    }

    /** One line per problem found; empty when the run measured what it meant to. */
    public static List<String> flags(RunData d) {
        List<String> out = new ArrayList<>();
        out.addAll(enginesUnalike(d));
        out.addAll(prefixCacheHits(d));
        sendLag(d).forEach((leg, lag) -> {
            if (lag[0] > CLIENT_BOUND_MS)
                out.add(String.format(
                        Locale.ROOT,
                        "client-bound: %s sent requests %.2f ms behind schedule (%s); "
                                + "its latency includes that lag and its throughput is the client's, not the target's",
                        leg,
                        lag[0],
                        label(lag[1])));
        });
        d.run().ifPresent(run -> {
            double before = run.path("config").path("calibration_ms_before").asDouble(Double.NaN);
            double after = run.path("config").path("calibration_ms_after").asDouble(Double.NaN);
            warmUps(run).forEach((process, w) -> {
                if (w.rising())
                    out.add(String.format(
                            Locale.ROOT,
                            "not warm: %s was still getting faster when its warm-up ended (%s); the first "
                                    + "rounds measured it still speeding up: raise --warmup-max-sec",
                            process,
                            w.rates().stream()
                                    .map(r -> String.format(Locale.ROOT, "%.0f", r))
                                    .collect(Collectors.joining(" → ", "", " req/s"))));
            });
            unalike(run.path("config").path("processes")).ifPresent(out::add);
            if (before > 0 && after > 0 && Math.abs(after / before - 1) > CALIBRATION_DRIFT) {
                out.add(String.format(
                        Locale.ROOT,
                        "machine noisy: a fixed computation took %.0f ms before the run and %.0f ms after (%+.0f %%); "
                                + "legs run at different times are not comparable, repeat the run on a quiet machine",
                        before,
                        after,
                        100 * (after / before - 1)));
            }
        });
        d.cpuRounds().ifPresent(c -> {
            if (!c.containsColumn("steal_ms")) return;
            for (Row r : c) {
                if (!r.isMissing("steal_ms") && r.getNumber("steal_ms") > STEAL_MS) {
                    out.add(String.format(
                            Locale.ROOT,
                            "machine noisy: the hypervisor took %.0f ms of CPU during %s %s (%s%s)",
                            r.getNumber("steal_ms"),
                            r.getString("topology"),
                            r.getString("connection"),
                            r.getString("workload"),
                            c.containsColumn("round") ? ", round " + (long) r.getNumber("round") : ""));
                }
            }
        });
        return out;
    }

    static String markdown(RunData d) {
        Map<String, double[]> lag = sendLag(d);
        if (lag.isEmpty()) return "";
        StringBuilder sb = new StringBuilder("\n## Self-checks\n\n");
        List<String> flags = flags(d);
        if (flags.isEmpty())
            sb.append("No problems found: the client kept its schedule and the machine kept its speed.\n");
        for (String f : flags) sb.append("- **").append(f).append("**\n");
        sb.append(String.format(
                Locale.ROOT,
                "%nSend lag is the time from when a request was due to when it left the client; above %.0f ms the "
                        + "client is the bottleneck. Shown: the highest percentile the leg's requests support.%n%n",
                CLIENT_BOUND_MS));
        sb.append("| leg | send lag (ms) | percentile |\n|---|---|---|\n");
        lag.forEach((leg, v) -> sb.append(String.format(Locale.ROOT, "| %s | %.3f | %s |%n", leg, v[0], label(v[1]))));
        d.run()
                .ifPresent(run -> warmUps(run)
                        .forEach((process, w) -> sb.append(String.format(
                                Locale.ROOT,
                                "%nWarm-up of %s until its throughput stopped rising: %d windows, %.0f → %.0f "
                                        + "req/s%s.%n",
                                process,
                                w.rates().size(),
                                w.rates().getFirst(),
                                w.rates().getLast(),
                                w.rising() ? " (still rising at the time cap)" : ""))));
        d.run().map(r -> r.path("config")).filter(JsonNode::isObject).ifPresent(c -> {
            if (c.has("calibration_ms_before"))
                sb.append(String.format(
                        Locale.ROOT,
                        "%nCalibration (a fixed single-threaded computation): "
                                + "%.0f ms before the run, %.0f ms after.%n",
                        c.path("calibration_ms_before").asDouble(Double.NaN),
                        c.path("calibration_ms_after").asDouble(Double.NaN)));
        });
        return sb.toString();
    }

    /** Each process's warm-up windows from run.json (compare's steady warm-up), judged by the rule that ended them. */
    private static Map<String, SteadyState> warmUps(JsonNode run) {
        Map<String, SteadyState> out = new LinkedHashMap<>();
        run.path("config").path("steady_warmup_req_per_s").properties().forEach(e -> {
            List<Double> rates = new ArrayList<>();
            e.getValue().forEach(x -> rates.add(x.asDouble()));
            if (!rates.isEmpty()) out.put(e.getKey(), SteadyState.of(rates));
        });
        return out;
    }

    /** Per leg: {send lag at the highest reportable percentile, that percentile}. */
    private static Map<String, double[]> sendLag(RunData d) {
        Map<String, List<Double>> byLeg = new LinkedHashMap<>();
        for (Row r : d.requests()) {
            if (r.isMissing("sent_ns") || r.isMissing("scheduled_ns")) continue;
            byLeg.computeIfAbsent(r.getString("topology") + " " + r.getString("connection"), k -> new ArrayList<>())
                    .add((r.getNumber("sent_ns") - r.getNumber("scheduled_ns")) / 1e6);
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        byLeg.forEach((leg, v) -> {
            double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            for (double p : new double[] {99, 90, 50}) {
                double x = Percentiles.reported(a, p);
                if (!Double.isNaN(x)) {
                    out.put(leg, new double[] {x, p});
                    return;
                }
            }
        });
        return out;
    }

    private static String label(double p) {
        return "p" + (int) p;
    }
}
