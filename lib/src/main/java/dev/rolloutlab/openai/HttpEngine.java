package dev.rolloutlab.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.Engine;
import dev.rolloutlab.engine.FinishReason;
import dev.rolloutlab.engine.GenerationRequest;
import dev.rolloutlab.engine.Sample;
import dev.rolloutlab.engine.SamplingParams;
import dev.rolloutlab.engine.TokenListener;
import dev.rolloutlab.util.HostPort;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSource;

/**
 * The {@link Engine} interface over an OpenAI server: token-id prompts go to {@code /v1/completions} with
 * {@code return_token_ids} and logprobs, streamed, so a trainer or notebook can swap the in-process engine for a server
 * and get the same records back (token ids, logprobs, and each token's weights version: from {@code token_versions}
 * where the server sends it, as ours does, else {@code X-Weights-Version}). Token ids come back only from servers that
 * return them (ours, vLLM with {@code return_token_ids}).
 */
public final class HttpEngine implements Engine {
    private final OkHttpClient http;
    private final String baseUrl;
    private final String apiKey;
    private final String model;
    private final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();

    public HttpEngine(String baseUrl, String apiKey, String model) {
        this(OpenAiClient.http(64, Duration.ofMinutes(10)), baseUrl, apiKey, model);
    }

    /** Over a client shared with other engines: one per server of a large fleet would each keep a pool. */
    public HttpEngine(OkHttpClient http, String baseUrl, String apiKey, String model) {
        this.http = http;
        this.baseUrl = HostPort.url(baseUrl);
        this.apiKey = apiKey;
        this.model = model;
    }

    @Override
    public String name() {
        return baseUrl;
    }

    @Override
    public CompletableFuture<Completion> submit(GenerationRequest request, TokenListener listener) {
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return run(request, listener == null ? TokenListener.NONE : listener);
                    } catch (IOException e) {
                        throw new IllegalStateException(baseUrl + ": " + e.getMessage(), e);
                    }
                },
                pool);
    }

    private Completion run(GenerationRequest g, TokenListener listener) throws IOException {
        SamplingParams p = g.params();
        CompletionRequest req = CompletionRequest.builder(CompletionRequest.Endpoint.COMPLETIONS)
                .model(model)
                .promptTokenIds(g.promptTokens())
                .maxTokens(p.maxTokens())
                .temperature(p.temperature())
                .topP(p.topP())
                .topK(p.topK())
                .n(g.n())
                .seed(p.seed())
                .stop(p.stop())
                .stopTokenIds(p.stopTokenIds())
                .logprobs(true)
                .stream(true)
                .includeUsage(true)
                .ignoreEos(p.ignoreEos())
                .returnTokenIds(true)
                .build();
        Request.Builder b = new Request.Builder()
                .url(baseUrl + req.endpoint().path)
                .post(RequestBody.create(Json.bytes(req.toJson()), OpenAiClient.JSON));
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        List<SampleBuilder> samples = new ArrayList<>();
        for (int i = 0; i < g.n(); i++) samples.add(new SampleBuilder(i));
        int promptTokens = g.promptTokens().length;
        try (Response resp = http.newCall(b.build()).execute()) {
            if (resp.code() != 200)
                throw new IOException("HTTP " + resp.code() + ": " + resp.body().string());
            long version = parse(resp.header("X-Weights-Version"));
            BufferedSource src = resp.body().source();
            String line;
            while ((line = src.readUtf8Line()) != null) {
                if (!line.startsWith("data:")) continue;
                String data = line.substring(5).trim();
                if (data.equals("[DONE]")) break;
                JsonNode n = Json.parse(data);
                if (n.hasNonNull("usage"))
                    promptTokens = n.path("usage").path("prompt_tokens").asInt(promptTokens);
                for (JsonNode c : n.path("choices")) {
                    SampleBuilder s = samples.get(c.path("index").asInt());
                    if (c.hasNonNull("finish_reason")) {
                        s.finish = switch (c.get("finish_reason").asText()) {
                            case "length" -> FinishReason.LENGTH;
                            case "abort" -> FinishReason.ABORT;
                            default -> FinishReason.STOP;
                        };
                        listener.onFinish(s.index, s.finish);
                        continue;
                    }
                    String text = c.path("text").asText("");
                    s.text.append(text);
                    JsonNode ids = c.path("token_ids"),
                            lps = c.path("logprobs").path("token_logprobs"),
                            vs = c.path("token_versions");
                    for (int k = 0; k < ids.size(); k++) {
                        float lp = (float) lps.path(k).asDouble(Double.NaN);
                        long v = vs.path(k).asLong(version); // ours says per token; others only per response
                        s.add(ids.get(k).asInt(), lp, v);
                        listener.onToken(s.index, ids.get(k).asInt(), lp, v, k == 0 ? text : "");
                    }
                }
            }
        }
        List<Sample> out = new ArrayList<>();
        for (SampleBuilder s : samples) out.add(s.build());
        return new Completion(promptTokens, out);
    }

    private static long parse(String s) {
        try {
            return s == null ? -1 : Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static final class SampleBuilder {
        final int index;
        final StringBuilder text = new StringBuilder();
        int[] ids = new int[16];
        float[] lps = new float[16];
        long[] versions = new long[16];
        int n;
        FinishReason finish = FinishReason.STOP;

        SampleBuilder(int index) {
            this.index = index;
        }

        void add(int id, float lp, long version) {
            if (n == ids.length) {
                ids = Arrays.copyOf(ids, n * 2);
                lps = Arrays.copyOf(lps, n * 2);
                versions = Arrays.copyOf(versions, n * 2);
            }
            ids[n] = id;
            lps[n] = lp;
            versions[n] = version;
            n++;
        }

        Sample build() {
            return new Sample(
                    index,
                    Arrays.copyOf(ids, n),
                    Arrays.copyOf(lps, n),
                    Arrays.copyOf(versions, n),
                    text.toString(),
                    finish,
                    List.of());
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
        http.connectionPool().evictAll();
    }
}
