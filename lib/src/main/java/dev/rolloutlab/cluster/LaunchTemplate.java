package dev.rolloutlab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

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
 * A named way to start a server: an argv with {@code ${param}} placeholders, parameter defaults, the ports it
 * serves ({@code "${base_port}:${num_servers}"} = a range) and its readiness path. An argv element whose
 * placeholders are all empty is dropped, so optional flags are written {@code --api-key=${api_key}}.
 * Templates are the only commands the agent and {@code launch} run; requests supply parameters, never commands.
 */
public record LaunchTemplate(String name, String description, List<String> command, Map<String, String> defaults,
                             String ports, String readyPath) {

    private static final Pattern PARAM = Pattern.compile("\\$\\{([a-z_][a-z0-9_]*)}");
    /** Parameter values from requests: no spaces, quotes or shell syntax, whatever the transport. */
    private static final Pattern SAFE_VALUE = Pattern.compile("[A-Za-z0-9._:/@+=,%-]*");

    /** The expanded template: exactly what runs, where it listens, how to check it. */
    public record Expanded(String template, List<String> argv, List<Integer> ports, String readyPath, Map<String, String> params) {
    }

    public static Map<String, LaunchTemplate> builtIns() {
        String java = ProcessHandle.current().info().command().orElse("java");
        String cp = System.getProperty("java.class.path");
        Map<String, LaunchTemplate> m = new LinkedHashMap<>();
        m.put("rollout-lab-serve", new LaunchTemplate("rollout-lab-serve", "Rollout Lab's serve (N OpenAI ports in one JVM)",
                List.of("${java}", "--add-modules", "jdk.incubator.vector", "-cp", "${classpath}", "dev.rolloutlab.cli.Main", "serve",
                        "--shape=${shape}", "--model=${model}", "--num-servers=${num_servers}", "--base-port=${base_port}", "--host=${host}",
                        "--api-key=${api_key}", "--served-model-name=${served_model_name}", "--backend-id-base=${backend_id_base}"),
                map("java", java, "classpath", cp, "shape", "tiny", "model", "", "num_servers", "4", "base_port", "31000",
                        "host", "0.0.0.0", "api_key", "", "served_model_name", "", "backend_id_base", "0"),
                "${base_port}:${num_servers}", "/v1/models"));
        m.put("sglang-jax", new LaunchTemplate("sglang-jax", "sgl_jax.launch_server, one engine over all local TPU devices",
                List.of("${python}", "-m", "sgl_jax.launch_server", "--model-path=${model}", "--device=tpu", "--tp-size=${tp_size}",
                        "--host=${host}", "--port=${base_port}", "--api-key=${api_key}"),
                map("python", "python", "model", "", "tp_size", "8", "host", "0.0.0.0", "base_port", "30000", "api_key", ""),
                "${base_port}:1", "/v1/models"));
        m.put("sglang-jax-multi-openai", new LaunchTemplate("sglang-jax-multi-openai", "the seed's multi-port runner: one process, one engine per port",
                List.of("${python}", "-u", "-m", "plugins.sglang_jax.run_multi_openai_servers", "--model=${model}",
                        "--num-servers=${num_servers}", "--base-port=${base_port}", "--host=${host}", "--load-format=${load_format}",
                        "--keep-running", "--context-length=${context_length}", "--max-total-tokens=${max_total_tokens}",
                        "--max-prefill-tokens=${max_prefill_tokens}", "--api-key=${api_key}", "${enable_weight_reload}"),
                map("python", "python", "model", "", "num_servers", "4", "base_port", "31000", "host", "0.0.0.0", "load_format", "auto",
                        "context_length", "", "max_total_tokens", "", "max_prefill_tokens", "", "api_key", "", "enable_weight_reload", ""),
                "${base_port}:${num_servers}", "/v1/models"));
        m.put("vllm", new LaunchTemplate("vllm", "vLLM's OpenAI server",
                List.of("${python}", "-m", "vllm.entrypoints.openai.api_server", "--model=${model}", "--host=${host}", "--port=${base_port}",
                        "--api-key=${api_key}"),
                map("python", "python", "model", "", "host", "0.0.0.0", "base_port", "8000", "api_key", ""),
                "${base_port}:1", "/v1/models"));
        return m;
    }

    private static Map<String, String> map(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    /** Built-ins plus the templates of a YAML/JSON file ({@code templates: {name: {command, defaults, ports, ready_path}}}). */
    public static Map<String, LaunchTemplate> load(Path file) {
        Map<String, LaunchTemplate> all = builtIns();
        if (file == null) return all;
        JsonNode root;
        try {
            root = (file.toString().endsWith(".json") ? new ObjectMapper() : new ObjectMapper(new YAMLFactory())).readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("templates " + file + ": " + e.getMessage());
        }
        JsonNode ts = root == null ? null : root.get("templates");
        if (ts == null || !ts.isObject()) throw new IllegalArgumentException("templates " + file + ": expected a mapping 'templates'");
        ts.fields().forEachRemaining(e -> {
            JsonNode t = e.getValue();
            String where = "templates " + file + ": " + e.getKey();
            if (!t.path("command").isArray() || t.path("command").isEmpty()) {
                throw new IllegalArgumentException(where + ": 'command' must be a non-empty list (argv, no shell)");
            }
            List<String> cmd = new ArrayList<>();
            t.get("command").forEach(c -> cmd.add(c.asText()));
            Map<String, String> defs = new LinkedHashMap<>();
            t.path("defaults").fields().forEachRemaining(d -> defs.put(d.getKey(), d.getValue().asText()));
            all.put(e.getKey(), new LaunchTemplate(e.getKey(), t.path("description").asText(""), cmd, defs,
                    t.path("ports").asText("${base_port}:1"), t.path("ready_path").asText("/v1/models")));
        });
        return all;
    }

    /**
     * Fills the placeholders. Unknown parameter names and unsafe values are refused, so a request can only choose
     * values for what the template already runs.
     */
    public Expanded expand(Map<String, String> params) {
        Map<String, String> p = new LinkedHashMap<>(defaults);
        for (var e : params.entrySet()) {
            if (!defaults.containsKey(e.getKey())) {
                throw new IllegalArgumentException("template " + name + " has no parameter '" + e.getKey() + "' (it has " + defaults.keySet() + ")");
            }
            if (!SAFE_VALUE.matcher(e.getValue()).matches()) {
                throw new IllegalArgumentException("parameter " + e.getKey() + "=" + e.getValue() + " has characters a template value may not contain");
            }
            p.put(e.getKey(), e.getValue());
        }
        if (p.containsKey("model") && p.get("model").isEmpty() && !p.containsKey("shape")) {
            throw new IllegalArgumentException("template " + name + " needs --set model=…");
        }
        List<String> argv = new ArrayList<>();
        for (String part : command) {
            Matcher m = PARAM.matcher(part);
            StringBuilder sb = new StringBuilder();
            boolean any = false, allEmpty = true;
            while (m.find()) {
                any = true;
                String v = p.getOrDefault(m.group(1), "");
                if (!v.isEmpty()) allEmpty = false;
                m.appendReplacement(sb, Matcher.quoteReplacement(v));
            }
            m.appendTail(sb);
            if (any && allEmpty) continue;
            argv.add(sb.toString());
        }
        return new Expanded(name, argv, ports(p), readyPath, p);
    }

    private List<Integer> ports(Map<String, String> p) {
        String spec = ports;
        for (var e : p.entrySet()) spec = spec.replace("${" + e.getKey() + "}", e.getValue());
        String[] parts = spec.split(":");
        try {
            int base = Integer.parseInt(parts[0].trim());
            int n = parts.length > 1 ? Integer.parseInt(parts[1].trim()) : 1;
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < n; i++) out.add(base + i);
            return out;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("template " + name + ": ports '" + ports + "' expand to '" + spec + "', not base:count numbers");
        }
    }
}
