package dev.rolloutlab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.tokenizer.ChatTemplate;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The prompts of a run, each already an OpenAI request. Synthetic prompts are token ids for {@code completions} (exact
 * lengths on our server) or words for {@code chat}; a JSONL file gives real prompts or chat messages.
 */
public record Workload(String name, List<CompletionRequest> requests) {

    private static final String[] WORDS =
            ("the model rollout trainer weights sample token prompt reward policy batch step "
                            + "server client request latency update fresh stale engine cluster host port "
                            + "story little time once upon")
                    .split(" ");

    /** Settings shared by every request of a workload. */
    public record Sampling(
            CompletionRequest.Endpoint endpoint,
            String model,
            int maxTokens,
            LengthDist outputLen,
            double temperature,
            Long seed,
            int nSamples,
            boolean stream,
            boolean ignoreEos) {}

    /**
     * {@code numPrompts} synthetic prompts; for completions the ids are drawn from [10, vocab) so they are valid for
     * our models and for any vocabulary at least that large.
     */
    public static Workload synthetic(int numPrompts, LengthDist inputLen, Sampling s, int vocab, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<CompletionRequest> out = new ArrayList<>(numPrompts);
        for (int i = 0; i < numPrompts; i++) {
            int len = inputLen.sample(r);
            int maxTokens = s.outputLen() != null ? s.outputLen().sample(r) : s.maxTokens();
            Long reqSeed = s.seed() == null ? null : s.seed() + i;
            CompletionRequest req;
            if (s.endpoint() == CompletionRequest.Endpoint.COMPLETIONS) {
                int[] ids = new int[len];
                for (int j = 0; j < len; j++) ids[j] = 10 + r.nextInt(Math.max(1, vocab - 13));
                req = CompletionRequest.completion(s.model(), ids, maxTokens, s.temperature());
            } else {
                StringBuilder sb = new StringBuilder();
                for (int j = 0; j < len; j++) sb.append(j == 0 ? "" : " ").append(WORDS[r.nextInt(WORDS.length)]);
                req = CompletionRequest.chat(s.model(), sb.toString(), maxTokens, s.temperature());
            }
            out.add(req.withSampling(s.nSamples(), reqSeed, s.ignoreEos()).withStream(s.stream(), s.stream()));
        }
        return new Workload(
                "synthetic in=" + inputLen + " out=" + (s.outputLen() != null ? s.outputLen() : s.maxTokens()), out);
    }

    /**
     * Reads a JSONL file: each line {@code {"prompt": "…"}}, {@code {"prompt": [ids…]}} or {@code {"messages": […]}}. A
     * bad line is reported with its number.
     */
    public static Workload fromJsonl(Path file, Sampling s) throws IOException {
        List<CompletionRequest> out = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty()) continue;
            JsonNode n;
            try {
                n = Json.parse(line);
            } catch (IOException e) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": not JSON: " + e.getMessage());
            }
            CompletionRequest req;
            if (n.has("messages")) {
                List<ChatTemplate.Message> msgs = new ArrayList<>();
                for (JsonNode m : n.get("messages"))
                    msgs.add(new ChatTemplate.Message(
                            m.path("role").asText("user"), m.path("content").asText("")));
                req = CompletionRequest.builder(CompletionRequest.Endpoint.CHAT)
                        .model(s.model())
                        .messages(msgs)
                        .maxTokens(s.maxTokens())
                        .temperature(s.temperature())
                        .build();
            } else if (n.has("prompt") && n.get("prompt").isArray()) {
                int[] ids = new int[n.get("prompt").size()];
                for (int j = 0; j < ids.length; j++)
                    ids[j] = n.get("prompt").get(j).asInt();
                req = CompletionRequest.completion(s.model(), ids, s.maxTokens(), s.temperature());
            } else if (n.has("prompt")) {
                req = s.endpoint() == CompletionRequest.Endpoint.CHAT
                        ? CompletionRequest.chat(s.model(), n.get("prompt").asText(), s.maxTokens(), s.temperature())
                        : CompletionRequest.builder(CompletionRequest.Endpoint.COMPLETIONS)
                                .model(s.model())
                                .prompt(n.get("prompt").asText())
                                .maxTokens(s.maxTokens())
                                .temperature(s.temperature())
                                .build();
            } else {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": needs \"prompt\" or \"messages\"");
            }
            Long seed = s.seed() == null ? null : s.seed() + out.size();
            out.add(req.withSampling(s.nSamples(), seed, s.ignoreEos()).withStream(s.stream(), s.stream()));
        }
        if (out.isEmpty()) throw new IllegalArgumentException(file + ": no prompts");
        return new Workload(file.getFileName().toString(), out);
    }
}
