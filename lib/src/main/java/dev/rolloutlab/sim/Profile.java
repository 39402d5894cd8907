package dev.rolloutlab.sim;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A named {@link TimingModel} with where it came from and how well it fits: the file {@code sim calibrate} writes and
 * {@code serve --engine sim --sim-profile} reads. Shipped profiles are found by name.
 *
 * @param r2Prefill R² of the prefill fit ({@code a + b·prompt_tokens} against time to first token)
 * @param r2Decode R² of the decode fit ({@code c + d·batch + e·context} against the step time)
 * @param calibrated what the calibration held a simulated host to, and how close it came; null for a stated profile
 */
public record Profile(
        String name,
        TimingModel model,
        double r2Prefill,
        double r2Decode,
        String source,
        String target,
        String fittedAt,
        Calibrated calibrated) {
    /**
     * A host's figures with sustained loops on all its ports, ms: the time to the first token of single-token requests
     * at the short prompt and the long one, and the time per token of streams after each. They are the load of
     * {@code compare}'s four cells on that host, so a run there can be set against the calibration. Beside them, the
     * time to the first token while the other ports stream: what a prefill beside decodes costs.
     */
    public record Loaded(
            double ttftBesidePrefills,
            double ttftLongBesidePrefills,
            double tpot,
            double tpotLong,
            double ttftBesideDecodes) {
        private static Loaded parse(JsonNode n) {
            return new Loaded(
                    n.path("ttft_beside_prefills_ms").asDouble(Double.NaN),
                    n.path("ttft_long_beside_prefills_ms").asDouble(Double.NaN),
                    n.path("tpot_ms").asDouble(Double.NaN),
                    n.path("tpot_long_ms").asDouble(Double.NaN),
                    n.path("ttft_beside_decodes_ms").asDouble(Double.NaN));
        }

        private Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ttft_beside_prefills_ms", ttftBesidePrefills);
            m.put("ttft_long_beside_prefills_ms", ttftLongBesidePrefills);
            m.put("tpot_ms", tpot);
            m.put("tpot_long_ms", tpotLong);
            m.put("ttft_beside_decodes_ms", ttftBesideDecodes);
            return m;
        }
    }

    /**
     * The real host's figures a calibration fitted to and those of the simulated host it kept: a later run on either
     * host, set against its own, says whether a prediction missed because the fit did or because the host moved.
     */
    public record Calibrated(Loaded host, Loaded simulated) {}
    /**
     * The stated profile of compare's zero-compute control: every step takes no time, so what a request costs beyond
     * its engine's scheduling is the path around the engine.
     */
    public static final String ZERO_COMPUTE = "zero-compute";

    /** Profiles shipped with Rollout Lab: fitted from our engine on the machine named in each, or stated. */
    public static final List<String> SHIPPED = List.of("rollout-lab-small-2core", ZERO_COMPUTE);

    /** A shipped profile by name, or a profile file. */
    public static Profile load(String nameOrPath) {
        try {
            if (SHIPPED.contains(nameOrPath)) {
                try (InputStream in = Profile.class.getResourceAsStream(nameOrPath + ".json")) {
                    return parse(
                            Json.parse(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)),
                            nameOrPath);
                }
            }
            Path p = Path.of(nameOrPath);
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("--sim-profile " + nameOrPath
                        + ": no such file and not a shipped profile (" + String.join(", ", SHIPPED)
                        + "); make one with sim calibrate --target URL --out FILE");
            }
            return parse(Json.parse(Files.readString(p)), p.toString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Profile parse(JsonNode n, String where) {
        JsonNode m = n.path("model");
        for (String k : List.of(
                "a_ms", "b_ms_per_prompt_token", "c_ms", "d_ms_per_sequence", "e_ms_per_context_token", "max_batch")) {
            if (!m.path(k).isNumber())
                throw new IllegalArgumentException(where + ": model." + k + " is missing or not a number");
        }
        TimingModel t = new TimingModel(
                m.path("a_ms").asDouble(),
                m.path("b_ms_per_prompt_token").asDouble(),
                m.path("c_ms").asDouble(),
                m.path("d_ms_per_sequence").asDouble(),
                m.path("e_ms_per_context_token").asDouble(),
                m.path("max_batch").asInt(),
                contention(m)
                        .withWaits(new CoreWaits(
                                coreWait(m, "woken_beside_decodes", "wake_beside_decodes_ms"),
                                coreWait(m, "woken_beside_prefills", "wake_beside_prefills_ms"),
                                coreWait(m, "finishing", null)))
                        .withServerWork(m.path("server_work_ms").asDouble(0)),
                m.path("step_cv").asDouble(0)); // absent before the terms existed: none
        return new Profile(
                n.path("name").asText(where),
                t,
                n.path("r2_prefill").asDouble(Double.NaN),
                n.path("r2_decode").asDouble(Double.NaN),
                n.path("source").asText(""),
                n.path("target").asText(""),
                n.path("fitted_at").asText(""),
                n.has("calibrated")
                        ? new Calibrated(
                                Loaded.parse(n.path("calibrated").path("host")),
                                Loaded.parse(n.path("calibrated").path("simulated")))
                        : null);
    }

    /**
     * The model's contention. A profile written before a prefill's fixed work and its work per token had shares of
     * their own gave a line in prompt tokens ({@code prefill_share_per_token}): its long prefills take the line's share
     * at {@link #LINE_AT} tokens, so prompts of that length keep their share.
     */
    private static Contention contention(JsonNode m) {
        double decodes = m.path("full_speed_decodes").asDouble(0),
                prefills = m.path("full_speed_prefills").asDouble(0),
                beside = m.path("prefill_slowdown_beside_decodes").asDouble(1);
        if (m.has("full_speed_long_prefills"))
            return new Contention(
                    decodes, prefills, m.path("full_speed_long_prefills").asDouble(), beside);
        double slope = m.path("prefill_share_per_token").asDouble(0);
        if (prefills == 0 || slope == 0) return Contention.uniform(decodes, prefills, beside);
        double a = m.path("a_ms").asDouble(),
                tokens = m.path("b_ms_per_prompt_token").asDouble() * LINE_AT;
        double share = 1 / prefills + slope * LINE_AT, perToken = (share * (a + tokens) - a / prefills) / tokens;
        return new Contention(decodes, prefills, perToken <= 1.0 / 4096 ? 4096 : Math.max(0.05, 1 / perToken), beside);
    }

    /**
     * A wait for a core, {@code name_chance} and {@code name_ms}; none where absent. A profile written when the waits
     * had only a mean ({@code earlier}, ms) waited whenever other steps ran.
     */
    private static CoreWait coreWait(JsonNode m, String name, String earlier) {
        if (m.has(name + "_ms"))
            return new CoreWait(
                    m.path(name + "_chance").asDouble(), m.path(name + "_ms").asDouble());
        double ms = earlier == null ? 0 : m.path(earlier).asDouble(0);
        return ms > 0 ? new CoreWait(1, ms) : CoreWait.NONE;
    }

    /** The prompt length at which a profile's earlier prefill line is kept exactly. */
    static final int LINE_AT = 128;

    /** The profile as JSON, written atomically. */
    public void write(Path file) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a_ms", model.a());
        m.put("b_ms_per_prompt_token", model.b());
        m.put("c_ms", model.c());
        m.put("d_ms_per_sequence", model.d());
        m.put("e_ms_per_context_token", model.e());
        m.put("max_batch", model.maxBatch());
        m.put("full_speed_decodes", model.contention().decodes());
        m.put("full_speed_prefills", model.contention().prefills());
        m.put("full_speed_long_prefills", model.contention().longPrefills());
        m.put("prefill_slowdown_beside_decodes", model.contention().prefillBesideDecodes());
        CoreWaits waits = model.contention().waits();
        put(m, "woken_beside_decodes", waits.wokenBesideDecodes());
        put(m, "woken_beside_prefills", waits.wokenBesidePrefills());
        put(m, "finishing", waits.finishing());
        m.put("server_work_ms", model.contention().serverWorkMs());
        m.put("step_cv", model.stepCv());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", name);
        out.put("model", m);
        out.put("r2_prefill", r2Prefill);
        out.put("r2_decode", r2Decode);
        out.put("source", source);
        out.put("target", target);
        out.put("fitted_at", fittedAt);
        if (calibrated != null) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("host", calibrated.host().json());
            c.put("simulated", calibrated.simulated().json());
            out.put("calibrated", c);
        }
        out.put(
                "meaning",
                "prefill step = a + b*prompt_tokens; decode step = c + d*batch + e*mean_context_tokens; ms, "
                        + "for an engine alone on its host; "
                        + "full_speed_decodes/prefills: steps of one process's engines that run at full speed "
                        + "at once, more share the cores "
                        + "(0: no contention; prefills: their fixed work, as for an empty prompt; long_prefills: their "
                        + "work per prompt token; a prefill's share is the two weighted by their time alone); "
                        + "prefill_slowdown_beside_decodes: how many "
                        + "times slower than its share a prefill runs while decodes run; "
                        + "woken_beside_decodes/prefills: how often (chance) and how long on average (ms) an idle "
                        + "engine, woken by a request, waits for a core the others' decode steps hold, or a prefill "
                        + "among them; finishing: the same for an engine whose step has just finished a request, "
                        + "before the request ends; "
                        + "server_work_ms: the simulating server's own work per request, counted as done of a prefill "
                        + "under contention, where the real host's would have slowed with its steps; "
                        + "step_cv: how much a one-row decode step's time varies beside other steps (coefficient "
                        + "of variation, log-normal; a step k times as long varies by step_cv over the square root "
                        + "of k); "
                        + "calibrated: the real host's figures on all its ports at once that the fit was held to "
                        + "(host) and the simulated host's it kept (simulated), ms");
        Json.writeFile(file, out);
    }

    private static void put(Map<String, Object> m, String name, CoreWait w) {
        m.put(name + "_chance", w.chance());
        m.put(name + "_ms", w.meanMs());
    }
}
