package dev.rolloutlab.commands;

import dev.rolloutlab.bench.Fanout;
import dev.rolloutlab.cluster.Registry;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.openai.ServerProbe;
import dev.rolloutlab.util.HostPort;
import dev.rolloutlab.util.Json;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code fanout}: {@code fanout_client}'s job - one chat to every backend in parallel, printed in completion order. */
@Command(
        name = "fanout",
        mixinStandardHelpOptions = true,
        description = "Send one chat request to every backend of a registry (or --backends) in parallel.")
public final class FanoutCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    BackendChoice where;

    @Option(names = "--prompt", defaultValue = "你是谁", description = "Default: ${DEFAULT-VALUE}")
    String prompt;

    @Option(
            names = "--model",
            defaultValue = "",
            description =
                    "Model name. Default: the registry's model, else the one the first backend serves (/v1/models).")
    String model;

    @Option(names = "--max-tokens", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.0", description = "Default: ${DEFAULT-VALUE}")
    double temperature;

    @Option(names = "--timeout-sec", defaultValue = "120", description = "Default: ${DEFAULT-VALUE}")
    int timeoutSec;

    @Option(
            names = "--workers",
            defaultValue = "8",
            description = "Requests in flight at once. Default: ${DEFAULT-VALUE}")
    int workers;

    @Option(names = "--api-key", description = "Bearer key for the backends.")
    String apiKey;

    @Option(names = "--json", description = "Print one JSON object per backend instead of RESP lines.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (workers < 1) throw new Cli.UserError("--workers must be at least 1");
        Registry.BackendList found = where.resolve();
        List<String> list = found.backends();
        String m = model.isEmpty() ? found.model() : model;
        var http = OpenAiClient.http(workers, Duration.ofSeconds(timeoutSec));
        if (m == null) {
            try {
                m = ServerProbe.servedModel(new OpenAiClient(http, HostPort.url(list.get(0)), apiKey, true));
            } catch (IllegalArgumentException e) {
                throw new Cli.UserError(e.getMessage(), 1);
            }
        }
        CompletionRequest req = CompletionRequest.chat(m, prompt, maxTokens, temperature);
        long w0 = System.nanoTime();
        List<Fanout.Reply> replies = Fanout.send(list, req, apiKey, workers, Duration.ofSeconds(timeoutSec), r -> {
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("backend", r.backend());
                o.put("status", r.status());
                o.put("sec", Math.round(r.seconds() * 1000) / 1000.0);
                o.put("content", r.text());
                o.put("error", r.error());
                System.out.println(Json.write(o));
            } else {
                System.out.println("RESP backend=" + r.backend() + " status=" + r.status()
                        + String.format(Locale.ROOT, " sec=%.3f", r.seconds()) + " content="
                        + trim(r.text() != null ? r.text() : r.error()));
            }
            System.out.flush();
        });
        if (!json)
            System.out.printf(
                    Locale.ROOT, "DONE backends=%d wall_sec=%.3f%n", list.size(), (System.nanoTime() - w0) / 1e9);
        List<String> failed =
                replies.stream().filter(r -> !r.ok()).map(Fanout.Reply::backend).toList();
        if (!failed.isEmpty()) {
            System.err.println("FAILED backends=" + failed);
            return 1;
        }
        return 0;
    }

    private static String trim(String s) {
        if (s == null) return "";
        s = s.replace("\n", "\\n");
        return s.length() > 400 ? s.substring(0, 400) : s;
    }
}
