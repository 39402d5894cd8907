package dev.rolloutlab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.tokenizer.ChatTemplate;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The prompts of a run, each already an OpenAI request. Synthetic prompts are token ids for {@code completions} (exact
 * lengths on our server) or words for {@code chat}; a JSONL file gives real prompts or chat messages. With
 * {@link Turns}, each request opens a multi-turn session instead of standing alone.
 */
public record Workload(String name, List<CompletionRequest> requests, Turns turns) {

    public Workload(String name, List<CompletionRequest> requests) {
        this(name, requests, null);
    }

    /**
     * Multi-turn sessions, as an agent's rollout runs them: each turn resends the whole conversation, the answer and a
     * synthetic tool result of {@code toolTokens} appended, after the tool's {@code toolMs} (think time, not latency).
     */
    public record Turns(int turns, int toolTokens, double toolMs, int vocab) {
        public Turns {
            if (turns < 1 || turns > 1000)
                throw new IllegalArgumentException("--turns must be in [1, 1000], got " + turns);
            if (toolTokens < 0 || toolTokens > 100_000)
                throw new IllegalArgumentException("--tool-tokens must be in [0, 100000], got " + toolTokens);
            if (!(toolMs >= 0 && toolMs <= 600_000))
                throw new IllegalArgumentException("--tool-ms must be in [0, 600000], got " + toolMs);
        }

        /** The next turn's prompt: this one's, the answer, and the tool's result (ids from [10, vocab), seeded). */
        public int[] next(int[] prompt, int[] answer, long seed) {
            int[] p = Arrays.copyOf(prompt, prompt.length + answer.length + toolTokens);
            System.arraycopy(answer, 0, p, prompt.length, answer.length);
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = prompt.length + answer.length; i < p.length; i++)
                p[i] = 10 + r.nextInt(Math.max(1, vocab - 13));
            return p;
        }
    }

    /** How a GRPO group of n samples of one prompt is sent: n requests of one sample, or one request asking for n. */
    public enum GroupMode {
        SEPARATE,
        N;

        public static GroupMode parse(String s) {
            return switch (s) {
                case "separate" -> SEPARATE;
                case "n" -> N;
                default -> throw new IllegalArgumentException("--group-mode " + s + ": expected separate or n");
            };
        }
    }

    /**
     * Each prompt as a GRPO group of {@code size}: {@link GroupMode#SEPARATE} sends {@code size} one-sample requests
     * one after another (carrying the group as {@code X-Session-Id}, which a sticky balancer keeps together),
     * {@link GroupMode#N} one request with {@code n = size}.
     */
    public Workload grouped(int size, GroupMode mode) {
        if (size < 1 || size > 1024)
            throw new IllegalArgumentException("--group-size must be in [1, 1024], got " + size);
        if (size == 1) return this;
        List<CompletionRequest> out = new ArrayList<>();
        for (int g = 0; g < requests.size(); g++) {
            CompletionRequest r = requests.get(g);
            if (mode == GroupMode.N) out.add(r.withSampling(size, r.seed(), r.ignoreEos()));
            else
                for (int i = 0; i < size; i++)
                    out.add(r.withSampling(1, r.seed() == null ? null : r.seed() * 1024 + i, r.ignoreEos())
                            .withSessionId("group-" + g));
        }
        return new Workload(name + " groups of " + size + " (" + mode.name().toLowerCase() + ")", out, turns);
    }

    /**
     * A request as long as {@code r} whose prompt shares no prefix with it: token ids reversed, text or messages behind
     * a marker. A warm-up request then warms connections and code without filling a prefix cache with the very prompts
     * the run then measures.
     */
    public static CompletionRequest unshared(CompletionRequest r) {
        if (r.promptTokenIds() != null) {
            int[] ids = r.promptTokenIds().clone();
            for (int i = 0, j = ids.length - 1; i < j; i++, j--) {
                int t = ids[i];
                ids[i] = ids[j];
                ids[j] = t;
            }
            if (ids.length > 0 && Arrays.equals(ids, r.promptTokenIds())) ids[0] = ids[0] == 10 ? 11 : 10;
            return r.toBuilder().promptTokenIds(ids).sessionId(null).build();
        }
        if (r.prompt() != null)
            return r.toBuilder()
                    .prompt("warm-up. " + r.prompt())
                    .sessionId(null)
                    .build();
        List<ChatTemplate.Message> m = new ArrayList<>();
        m.add(new ChatTemplate.Message("system", "warm-up"));
        m.addAll(r.messages());
        return r.toBuilder().messages(m).sessionId(null).build();
    }

    /** These prompts as openings of multi-turn sessions; needs token-id prompts ({@code completions}). */
    public Workload inSessions(Turns t) {
        for (CompletionRequest r : requests)
            if (r.promptTokenIds() == null)
                throw new IllegalArgumentException(
                        "sessions resend token ids: use --endpoint completions without " + "--dataset of text prompts");
        return new Workload(
                name + " sessions of " + t.turns() + " turns (+" + t.toolTokens() + " tool tokens, " + t.toolMs()
                        + " ms)",
                requests,
                t);
    }

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

    /** One non-blank line of a JSONL file, parsed, with its number (from 1). */
    record JsonLine(int number, JsonNode json) {
        /** The non-blank lines of {@code source}; a line that is not JSON is refused with its number. */
        static List<JsonLine> parse(String source, List<String> lines) {
            List<JsonLine> out = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).trim();
                if (line.isEmpty()) continue;
                try {
                    out.add(new JsonLine(i + 1, Json.parse(line)));
                } catch (IOException e) {
                    throw new IllegalArgumentException(source + " line " + (i + 1) + ": not JSON: " + e.getMessage());
                }
            }
            return out;
        }
    }

    /**
     * Reads a JSONL file: each line {@code {"prompt": "..."}}, {@code {"prompt": [ids...]}} or {@code {"messages":
     * [...]}}. A bad line is reported with its number.
     */
    public static Workload fromJsonl(Path file, Sampling s) throws IOException {
        List<CompletionRequest> out = new ArrayList<>();
        for (JsonLine l : JsonLine.parse(file.toString(), Files.readAllLines(file))) {
            JsonNode n = l.json();
            int i = l.number() - 1;
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
