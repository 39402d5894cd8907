package dev.rolloutlab.commands;

import dev.rolloutlab.cluster.Registry;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.util.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** {@code fanout}: the seed's fanout client — one chat to every backend in parallel, printed in completion order. */
@Command(name = "fanout", mixinStandardHelpOptions = true,
        description = "Send one chat request to every backend of a registry (or --backends) in parallel.")
public final class FanoutCommand implements Callable<Integer> {
    @Option(names = "--registry-url", description = "Commander registry; its GET /backends lists the servers.")
    String registryUrl;
    @Option(names = "--backends", split = ",", description = "Backends as host:port or URLs, instead of a registry.")
    List<String> backends;
    @Option(names = "--prompt", defaultValue = "你是谁", description = "Default: ${DEFAULT-VALUE}")
    String prompt;
    @Option(names = "--model", defaultValue = "", description = "Model name. Default: the registry's model, else the one the first backend serves (/v1/models).")
    String model;
    @Option(names = "--max-tokens", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}")
    int maxTokens;
    @Option(names = "--temperature", defaultValue = "0.0", description = "Default: ${DEFAULT-VALUE}")
    double temperature;
    @Option(names = "--timeout-sec", defaultValue = "120", description = "Default: ${DEFAULT-VALUE}")
    int timeoutSec;
    @Option(names = "--workers", defaultValue = "8", description = "Requests in flight at once. Default: ${DEFAULT-VALUE}")
    int workers;
    @Option(names = "--api-key", description = "Bearer key for the backends.")
    String apiKey;
    @Option(names = "--json", description = "Print one JSON object per backend instead of RESP lines.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if ((registryUrl == null) == (backends == null)) throw new Cli.UserError("give exactly one of --registry-url or --backends");
        if (workers < 1) throw new Cli.UserError("--workers must be at least 1");
        List<String> list = new ArrayList<>();
        String m = model.isEmpty() ? null : model;
        if (registryUrl != null) {
            Registry.BackendList r = Registry.fetchBackends(registryUrl, Duration.ofSeconds(10));
            list.addAll(r.backends());
            if (m == null) m = r.model();
        } else {
            list.addAll(backends);
        }
        if (list.isEmpty()) throw new Cli.UserError("the registry lists no backends");
        var http = OpenAiClient.http(workers, Duration.ofSeconds(timeoutSec));
        if (m == null) {
            try {
                m = new OpenAiClient(http, OpenAiClient.normalize(list.get(0)), apiKey, true).servedModel();
            } catch (IllegalArgumentException e) {
                throw new Cli.UserError(e.getMessage(), 1);
            }
        }
        CompletionRequest req = CompletionRequest.chat(m, prompt, maxTokens, temperature);
        long w0 = System.nanoTime();
        List<String> failedBackends = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.min(workers, list.size()), Thread.ofVirtual().factory())) {
            ExecutorCompletionService<String[]> done = new ExecutorCompletionService<>(pool);
            for (String b : list) {
                done.submit(() -> {
                    String url = OpenAiClient.normalize(b);
                    OpenAiClient.Result r = new OpenAiClient(http, url, apiKey, true).complete(req);
                    double sec = (r.endNs() - r.sentNs()) / 1e9;
                    return new String[]{hostPort(url), String.valueOf(r.status()), String.format(java.util.Locale.ROOT, "%.3f", sec),
                            r.ok() ? r.text() : null, r.error()};
                });
            }
            for (int i = 0; i < list.size(); i++) {
                String[] r = done.take().get();
                boolean ok = "200".equals(r[1]) && r[4] == null;
                if (!ok) failedBackends.add(r[0]);
                if (json) {
                    Map<String, Object> o = new LinkedHashMap<>();
                    o.put("backend", r[0]);
                    o.put("status", Integer.parseInt(r[1]));
                    o.put("sec", Double.parseDouble(r[2]));
                    o.put("content", r[3]);
                    o.put("error", r[4]);
                    System.out.println(Json.write(o));
                } else {
                    String content = r[3] != null ? r[3] : r[4];
                    System.out.println("RESP backend=" + r[0] + " status=" + r[1] + " sec=" + r[2] + " content=" + trim(content));
                }
                System.out.flush();
            }
        }
        if (!json) System.out.printf(java.util.Locale.ROOT, "DONE backends=%d wall_sec=%.3f%n", list.size(), (System.nanoTime() - w0) / 1e9);
        if (!failedBackends.isEmpty()) {
            System.err.println("FAILED backends=" + failedBackends);
            return 1;
        }
        return 0;
    }

    private static String hostPort(String url) {
        okhttp3.HttpUrl u = okhttp3.HttpUrl.parse(url);
        return u == null ? url : u.host() + ":" + u.port();
    }

    private static String trim(String s) {
        if (s == null) return "";
        s = s.replace("\n", "\\n");
        return s.length() > 400 ? s.substring(0, 400) : s;
    }
}
