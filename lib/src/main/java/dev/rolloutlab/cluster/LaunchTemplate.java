package dev.rolloutlab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.model.ModelShape;
import dev.rolloutlab.process.ChildJvm;
import dev.rolloutlab.util.Json;
import dev.rolloutlab.util.Secrets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A named way to start a server: an argv with {@code ${param}} placeholders, the declared parameters (see
 * {@link TemplateParam}), the ports it serves ({@code "${base_port}:${num_servers}"} = a range) and its readiness path.
 * An argv element whose placeholders are all empty is dropped, so optional flags are written
 * {@code --api-key=${api_key}}. Templates are the only commands the agent and {@code launch} run.
 */
public record LaunchTemplate(
        String name,
        String description,
        List<String> command,
        Map<String, TemplateParam> params,
        String ports,
        String readyPath) {

    private static final Pattern PARAM = Pattern.compile("\\$\\{([a-z_][a-z0-9_]*)}");
    /** A model: a Hugging Face id or a path, no leading dash (it would read as a flag). */
    private static final String MODEL = "[A-Za-z0-9._/@+=,%:][A-Za-z0-9._/@+=,%:-]{0,511}|";

    private static final String NAME = "[A-Za-z0-9._/@+=,%:-]{0,128}";

    /** The expanded template: exactly what runs, where it listens, how to check it. */
    public record Expanded(
            String template, List<String> argv, List<Integer> ports, String readyPath, Map<String, String> params) {}

    public static Map<String, LaunchTemplate> builtIns() {
        String java = ProcessHandle.current().info().command().orElse("java");
        String cp = System.getProperty("java.class.path");
        Map<String, LaunchTemplate> m = new LinkedHashMap<>();
        m.put(
                "rollout-lab-serve",
                new LaunchTemplate(
                        "rollout-lab-serve",
                        "Rollout Lab's serve (N OpenAI ports in one JVM)",
                        List.of(
                                "${java}",
                                "--add-modules",
                                "jdk.incubator.vector",
                                "-cp",
                                "${classpath}",
                                ChildJvm.MAIN,
                                "serve",
                                "--shape=${shape}",
                                "--model=${model}",
                                "--num-servers=${num_servers}",
                                "--base-port=${base_port}",
                                "--host=${host}",
                                "--api-key-file=${api_key_file}",
                                "--served-model-name=${served_model_name}",
                                "--backend-id-base=${backend_id_base}"),
                        params(
                                TemplateParam.operator("java", java),
                                TemplateParam.operator("classpath", cp),
                                TemplateParam.text("shape", "tiny", "tiny|small|[0-9]{2,4}x[0-9]{1,3}x[0-9]{3,6}"),
                                TemplateParam.text("model", "", MODEL),
                                TemplateParam.integer("num_servers", 4, 1, 64),
                                TemplateParam.integer("base_port", 31000, 1024, 65535),
                                TemplateParam.operator("host", "127.0.0.1"),
                                TemplateParam.operator("api_key_file", ""),
                                TemplateParam.text("served_model_name", "", NAME),
                                TemplateParam.integer("backend_id_base", 0, 0, 1_000_000)),
                        "${base_port}:${num_servers}",
                        "/v1/models"));
        m.put(
                "sglang-jax",
                new LaunchTemplate(
                        "sglang-jax",
                        "sgl_jax.launch_server, one engine over all local TPU devices",
                        List.of(
                                "${python}",
                                "-m",
                                "sgl_jax.launch_server",
                                "--model-path=${model}",
                                "--device=tpu",
                                "--tp-size=${tp_size}",
                                "--host=${host}",
                                "--port=${base_port}",
                                "--api-key=${api_key}"),
                        params(
                                TemplateParam.operator("python", "python"),
                                TemplateParam.text("model", "", MODEL),
                                TemplateParam.integer("tp_size", 8, 1, 4096),
                                TemplateParam.operator("host", "127.0.0.1"),
                                TemplateParam.integer("base_port", 30000, 1024, 65535),
                                TemplateParam.operator("api_key", "")),
                        "${base_port}:1",
                        "/v1/models"));
        m.put(
                "sglang-jax-multi-openai",
                new LaunchTemplate(
                        "sglang-jax-multi-openai",
                        "sglang-jax's multi-port runner: one process, one engine per port",
                        List.of(
                                "${python}",
                                "-u",
                                "-m",
                                "plugins.sglang_jax.run_multi_openai_servers",
                                "--model=${model}",
                                "--num-servers=${num_servers}",
                                "--base-port=${base_port}",
                                "--host=${host}",
                                "--load-format=${load_format}",
                                "--keep-running",
                                "--context-length=${context_length}",
                                "--max-total-tokens=${max_total_tokens}",
                                "--max-prefill-tokens=${max_prefill_tokens}",
                                "--api-key=${api_key}",
                                "${enable_weight_reload}"),
                        params(
                                TemplateParam.operator("python", "python"),
                                TemplateParam.text("model", "", MODEL),
                                TemplateParam.integer("num_servers", 4, 1, 64),
                                TemplateParam.integer("base_port", 31000, 1024, 65535),
                                TemplateParam.operator("host", "127.0.0.1"),
                                TemplateParam.text("load_format", "auto", "auto|dummy|pt|safetensors|npcache"),
                                TemplateParam.optionalInt("context_length", 1, 1 << 24),
                                TemplateParam.optionalInt("max_total_tokens", 1, 1L << 32),
                                TemplateParam.optionalInt("max_prefill_tokens", 1, 1L << 32),
                                TemplateParam.operator("api_key", ""),
                                TemplateParam.flag("enable_weight_reload", "--enable-weight-reload")),
                        "${base_port}:${num_servers}",
                        "/v1/models"));
        m.put(
                "vllm",
                new LaunchTemplate(
                        "vllm",
                        "vLLM's OpenAI server",
                        List.of(
                                "${python}",
                                "-m",
                                "vllm.entrypoints.openai.api_server",
                                "--model=${model}",
                                "--host=${host}",
                                "--port=${base_port}",
                                "--api-key=${api_key}"),
                        params(
                                TemplateParam.operator("python", "python"),
                                TemplateParam.text("model", "", MODEL),
                                TemplateParam.operator("host", "127.0.0.1"),
                                TemplateParam.integer("base_port", 8000, 1024, 65535),
                                TemplateParam.operator("api_key", "")),
                        "${base_port}:1",
                        "/v1/models"));
        return m;
    }

    /**
     * Gives this template's servers the API key {@code key}: as a file in {@code dir} (owner-only) when the template
     * takes {@code api_key_file}, so the key never shows in {@code ps}; else as {@code api_key} for servers that only
     * take a flag. False when the template takes neither.
     */
    public boolean putApiKey(Map<String, String> operator, String key, Path dir) {
        if (params.containsKey("api_key_file")) {
            Path file = Secrets.writeOwnerOnly(dir.toAbsolutePath().resolve("server-api-key"), key);
            operator.put("api_key_file", file.toString());
            return true;
        }
        if (!params.containsKey("api_key")) return false;
        operator.put("api_key", key);
        return true;
    }

    private static Map<String, TemplateParam> params(TemplateParam... ps) {
        Map<String, TemplateParam> m = new LinkedHashMap<>();
        for (TemplateParam p : ps) m.put(p.name(), p);
        return m;
    }

    /**
     * Built-ins plus the templates of a YAML/JSON file: {@code templates: {name: {command: [...], params: {p: {default,
     * settable, type: string|int|flag, min, max, pattern, flag}}, ports, ready_path}}}. Parameters are operator-only
     * unless {@code settable: true}.
     */
    public static Map<String, LaunchTemplate> load(Path file) {
        Map<String, LaunchTemplate> all = builtIns();
        if (file == null) return all;
        JsonNode root;
        try {
            root = (file.toString().endsWith(".json") ? Json.MAPPER : Json.YAML).readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("templates " + file + ": " + e.getMessage());
        }
        JsonNode ts = root == null ? null : root.get("templates");
        if (ts == null || !ts.isObject())
            throw new IllegalArgumentException("templates " + file + ": expected a mapping 'templates'");
        ts.properties().forEach(e -> {
            JsonNode t = e.getValue();
            String where = "templates " + file + ": " + e.getKey();
            if (!t.path("command").isArray() || t.path("command").isEmpty()) {
                throw new IllegalArgumentException(where + ": 'command' must be a non-empty list (argv, no shell)");
            }
            List<String> cmd = new ArrayList<>();
            t.get("command").forEach(c -> cmd.add(c.asText()));
            Map<String, TemplateParam> ps = new LinkedHashMap<>();
            t.path("params").properties().forEach(p -> ps.put(p.getKey(), param(where, p.getKey(), p.getValue())));
            for (String used : placeholders(cmd)) {
                if (!ps.containsKey(used))
                    throw new IllegalArgumentException(
                            where + ": command uses ${" + used + "} but params does not declare it");
            }
            all.put(
                    e.getKey(),
                    new LaunchTemplate(
                            e.getKey(),
                            t.path("description").asText(""),
                            cmd,
                            ps,
                            t.path("ports").asText("${base_port}:1"),
                            t.path("ready_path").asText("/v1/models")));
        });
        return all;
    }

    private static TemplateParam param(String where, String name, JsonNode p) {
        String at = where + ": params." + name;
        if (!p.isObject()) return TemplateParam.operator(name, p.asText()); // `name: value` = an operator-set default
        String type = p.path("type").asText("string");
        try {
            return new TemplateParam(
                    name,
                    p.path("default").asText(""),
                    p.path("settable").asBoolean(false),
                    switch (type) {
                        case "string" -> TemplateParam.Type.STRING;
                        case "int" -> TemplateParam.Type.INT;
                        case "flag" -> TemplateParam.Type.FLAG;
                        default -> throw new IllegalArgumentException("type must be string, int or flag, got " + type);
                    },
                    p.path("min").asLong(0),
                    p.path("max").asLong(Long.MAX_VALUE),
                    p.hasNonNull("pattern") ? Pattern.compile(p.get("pattern").asText()) : null,
                    p.path("flag").asText(null));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(at + ": " + e.getMessage());
        }
    }

    private static List<String> placeholders(List<String> cmd) {
        List<String> names = new ArrayList<>();
        for (String part : cmd) {
            Matcher m = PARAM.matcher(part);
            while (m.find()) names.add(m.group(1));
        }
        return names;
    }

    /** The parameters a start request may set. */
    public List<String> settable() {
        return params.values().stream()
                .filter(TemplateParam::requestSettable)
                .map(TemplateParam::name)
                .toList();
    }

    /**
     * Expands with values from the operator (a {@code launch --set}, the commander's own flags): any declared
     * parameter.
     */
    public Expanded expand(Map<String, String> values) {
        return expand(values, Map.of());
    }

    /**
     * Expands with {@code request} values, which may set only request-settable parameters, on top of {@code operator}
     * values, which may set any. Unknown names, operator-only names in a request, and values that fail their check are
     * refused, so a request can only choose values for what the template already runs.
     */
    public Expanded expand(Map<String, String> operator, Map<String, String> request) {
        Map<String, String> p = new LinkedHashMap<>();
        Map<String, String> given = new LinkedHashMap<>(); // defaults are the configuration's own and pass unchecked
        params.forEach((k, v) -> p.put(k, v.defaultValue()));
        for (var e : operator.entrySet()) {
            if (!params.containsKey(e.getKey())) {
                throw new IllegalArgumentException(
                        "template " + name + " has no parameter '" + e.getKey() + "' (it has " + params.keySet() + ")");
            }
            given.put(e.getKey(), e.getValue());
        }
        for (var e : request.entrySet()) {
            TemplateParam tp = params.get(e.getKey());
            if (tp == null) {
                throw new IllegalArgumentException("template " + name + " has no parameter '" + e.getKey()
                        + "' (a request may set " + settable() + ")");
            }
            if (!tp.requestSettable()) {
                throw new IllegalArgumentException("parameter '" + e.getKey() + "' of template " + name
                        + " is set by the agent's operator, not by requests (a request may set " + settable() + ")");
            }
            given.put(e.getKey(), e.getValue());
        }
        Map<String, String> expanded = new LinkedHashMap<>(p);
        for (String k : params.keySet()) {
            TemplateParam tp = params.get(k);
            if (given.containsKey(k) || tp.type() != TemplateParam.Type.STRING)
                expanded.put(k, tp.expand(given.getOrDefault(k, p.get(k))));
        }
        if (given.containsKey("shape") && command.contains("--shape=${shape}")) {
            try { // our serve's shape: refused here, with its bounds, rather than by a server that dies on it
                ModelShape.parse(expanded.get("shape"), ModelConfig.Architecture.LLAMA);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("parameter 'shape' of template " + name + ": "
                        + e.getMessage().replace("--shape ", ""));
            }
        }
        if (expanded.containsKey("model") && expanded.get("model").isEmpty() && !expanded.containsKey("shape")) {
            throw new IllegalArgumentException(
                    "template " + name + " needs a model (--set model=… or \"model\" in the request)");
        }
        List<String> argv = new ArrayList<>();
        for (String part : command) {
            Matcher m = PARAM.matcher(part);
            StringBuilder sb = new StringBuilder();
            boolean any = false, allEmpty = true;
            while (m.find()) {
                any = true;
                String v = expanded.getOrDefault(m.group(1), "");
                if (!v.isEmpty()) allEmpty = false;
                m.appendReplacement(sb, Matcher.quoteReplacement(v));
            }
            m.appendTail(sb);
            if (any && allEmpty) continue;
            argv.add(sb.toString());
        }
        return new Expanded(name, argv, ports(expanded), readyPath, expanded);
    }

    private List<Integer> ports(Map<String, String> p) {
        String spec = ports;
        for (var e : p.entrySet()) spec = spec.replace("${" + e.getKey() + "}", e.getValue());
        String[] parts = spec.split(":");
        try {
            int base = Integer.parseInt(parts[0].trim());
            int n = parts.length > 1 ? Integer.parseInt(parts[1].trim()) : 1;
            if (n < 1 || n > 1024 || base < 0 || base + n - 1 > 65535) throw new NumberFormatException();
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < n; i++) out.add(base + i);
            return out;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("template " + name + ": ports '" + ports + "' expand to '" + spec
                    + "', not base:count within 0-65535");
        }
    }
}
