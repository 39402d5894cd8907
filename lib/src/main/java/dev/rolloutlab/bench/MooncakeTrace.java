package dev.rolloutlab.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.openai.CompletionRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A request trace in Mooncake's format, one JSON object per line: {@code timestamp} (ms from the trace's start),
 * {@code input_length}, {@code output_length} and {@code hash_ids}, one id per block of {@value #MOONCAKE_BLOCK} prompt
 * tokens, equal ids meaning equal blocks. Replayed as prompts of token ids whose blocks follow the ids (the same id
 * always gives the same tokens), sent at the trace's times. {@code blockTokens} scales a trace down to a small model:
 * each block becomes that many tokens and every input length scales with it.
 */
public final class MooncakeTrace {
    /** Tokens per hash block in Mooncake's published traces. */
    public static final int MOONCAKE_BLOCK = 512;
    /** The trace shipped with Rollout Lab, by the name {@code --trace synthetic}. */
    public static final String SYNTHETIC = "synthetic";

    private static final int MAX_LINES = 1_000_000;

    private MooncakeTrace() {}

    /** The requests and their send times (ms from the start). */
    public record Replay(Workload workload, double[] atMs) {}

    /** Reads {@code file} ({@value #SYNTHETIC}: the shipped synthetic trace). */
    public static Replay read(String file, Workload.Sampling s, int blockTokens, int vocab) throws IOException {
        return read(file, s, blockTokens, vocab, 0);
    }

    /**
     * As {@link #read(String, Workload.Sampling, int, int)}, with every block's tokens drawn under {@code salt}: the
     * same trace with another salt shares no prefix with it (an experiment replays it on several legs of one server).
     * Each request carries its first block's id as its session ({@code X-Session-Id}), so a sticky balancer or a client
     * routing by session keeps a shared document on one server.
     */
    public static Replay read(String file, Workload.Sampling s, int blockTokens, int vocab, long salt)
            throws IOException {
        if (blockTokens < 1 || blockTokens > MOONCAKE_BLOCK)
            throw new IllegalArgumentException("--trace-block-tokens must be in [1, 512], got " + blockTokens);
        List<String> lines;
        if (file.equals(SYNTHETIC)) {
            try (InputStream in = MooncakeTrace.class.getResourceAsStream("synthetic-mooncake-trace.jsonl")) {
                lines = new String(in.readAllBytes(), StandardCharsets.UTF_8)
                        .lines()
                        .toList();
            }
        } else lines = Files.readAllLines(Path.of(file));
        if (lines.size() > MAX_LINES)
            throw new IllegalArgumentException(file + ": " + lines.size() + " lines, more than " + MAX_LINES);
        List<CompletionRequest> out = new ArrayList<>();
        List<Double> at = new ArrayList<>();
        for (Workload.JsonLine l : Workload.JsonLine.parse(file, lines)) {
            JsonNode n = l.json();
            int i = l.number() - 1;
            String where = file + " line " + l.number() + ": ";
            for (String f : List.of("timestamp", "input_length", "output_length", "hash_ids"))
                if (!n.has(f)) throw new IllegalArgumentException(where + "needs \"" + f + "\" (Mooncake's format)");
            int input = n.get("input_length").asInt(),
                    output = n.get("output_length").asInt();
            if (input < 1 || output < 1)
                throw new IllegalArgumentException(where + "input_length and output_length must be at least 1");
            long[] ids = new long[n.get("hash_ids").size()];
            for (int b = 0; b < ids.length; b++)
                ids[b] = n.get("hash_ids").get(b).asLong();
            int len = Math.max(1, (int) Math.ceil((double) input * blockTokens / MOONCAKE_BLOCK));
            int[] prompt = prompt(ids, len, blockTokens, vocab, salt);
            out.add(CompletionRequest.completion(s.model(), prompt, Math.min(output, s.maxTokens()), s.temperature())
                    .withSampling(1, s.seed() == null ? null : s.seed() + i, s.ignoreEos())
                    .withStream(s.stream(), s.stream())
                    .withSessionId(ids.length == 0 ? null : "block-" + ids[0]));
            at.add(n.get("timestamp").asDouble());
        }
        if (out.isEmpty()) throw new IllegalArgumentException(file + ": no requests");
        double t0 = at.get(0);
        double[] atMs = at.stream().mapToDouble(t -> t - t0).toArray();
        for (int i = 1; i < atMs.length; i++)
            if (atMs[i] < atMs[i - 1])
                throw new IllegalArgumentException(file + ": timestamps must not go back (request " + (i + 1) + ")");
        return new Replay(
                new Workload("trace " + Path.of(file).getFileName() + " (" + out.size() + " requests)", out), atMs);
    }

    /** The prompt whose block b is the tokens hash id {@code ids[b]} stands for; past the ids, its own tokens. */
    static int[] prompt(long[] ids, int len, int blockTokens, int vocab, long salt) {
        int[] p = new int[len];
        for (int b = 0; b * blockTokens < len; b++) {
            long seed = (b < ids.length ? ids[b] * 0x9E3779B97F4A7C15L : Arrays.hashCode(ids) * 31L + b)
                    ^ salt * 0xC2B2AE3D27D4EB4FL;
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = b * blockTokens; i < Math.min(len, (b + 1) * blockTokens); i++)
                p[i] = 10 + r.nextInt(Math.max(1, vocab - 13));
        }
        return p;
    }
}
