package dev.rolloutlab.engine.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rolloutlab.engine.checkpoint.HfJson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a byte-level BPE {@code tokenizer.json} of an exact vocabulary size for random checkpoints: merges are learned
 * from a small built-in English corpus, then filled up with deterministic concatenations.
 */
public final class TokenizerBuilder {
    public static final List<String> SPECIAL_TOKENS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");

    private static final String CORPUS = """
            Reinforcement learning for language models alternates between two phases. In the rollout phase the
            current policy samples completions for a batch of prompts; in the training phase the trainer scores
            those samples and updates the weights. The rollout phase is inference, and it is often the slowest part
            of a training step. There are two common ways to produce rollouts at scale. The first runs many
            inference servers that speak the OpenAI protocol over HTTP, and a single controller fans prompts out to
            them, directly or through a load balancer. The second keeps the inference engine inside the trainer
            process as a library, with no HTTP and no JSON, and swaps the weights in memory after every step.
            The first design scales out across many hosts, but every request pays for serialization, the network and
            the connection, and the servers may sample from stale weights until they reload. The second design is
            fully on policy and has the lowest overhead per request, but it shares the accelerators with training.
            Which one is better depends on the hardware, on how often the weights change, and on the throughput the
            experiment needs. The only honest way to choose is to measure both on the same engine and workload:
            the time to the first token, the time per output token, the end to end latency, the throughput, and the
            number of versions by which each sample lags behind the trainer. Once upon a time there was a little
            model that wanted to learn. Every day it read stories, answered questions and tried again when it was
            wrong. The teacher gave it a reward when the answer was right, and slowly the model became better.
            """;

    private TokenizerBuilder() {}

    /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} with exactly {@code vocabSize} ids. */
    public static void write(Path dir, int vocabSize) throws IOException {
        int ordinary = vocabSize - SPECIAL_TOKENS.size();
        if (ordinary < 256) {
            throw new IllegalArgumentException("vocab size " + vocabSize
                    + " is too small: byte-level BPE needs at least " + (256 + SPECIAL_TOKENS.size()));
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(Tokenizer.byteChar(b)), b);
        List<String[]> merges = new ArrayList<>();
        learnMerges(vocab, merges, ordinary);
        fillMerges(vocab, merges, ordinary);

        ObjectMapper json = HfJson.MAPPER;
        ObjectNode root = json.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIAL_TOKENS.size(); i++) {
            ObjectNode a = added.addObject();
            a.put("id", ordinary + i);
            a.put("content", SPECIAL_TOKENS.get(i));
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Sequence");
        ArrayNode pts = pre.putArray("pretokenizers");
        ObjectNode split = pts.addObject();
        split.put("type", "Split");
        split.putObject("pattern").put("Regex", Tokenizer.QWEN2_PATTERN);
        split.put("behavior", "Isolated");
        split.put("invert", false);
        ObjectNode bl = pts.addObject();
        bl.put("type", "ByteLevel");
        bl.put("add_prefix_space", false);
        bl.put("trim_offsets", false);
        bl.put("use_regex", false);
        root.putNull("post_processor");
        ObjectNode dec = root.putObject("decoder");
        dec.put("type", "ByteLevel");
        dec.put("add_prefix_space", false);
        dec.put("trim_offsets", false);
        dec.put("use_regex", false);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        ArrayNode m = model.putArray("merges");
        for (String[] pair : merges) m.addArray().add(pair[0]).add(pair[1]);
        Files.writeString(dir.resolve("tokenizer.json"), json.writeValueAsString(root));

        ObjectNode cfg = json.createObjectNode();
        cfg.put("tokenizer_class", "PreTrainedTokenizerFast");
        cfg.put("bos_token", (String) null);
        cfg.put("eos_token", "<|im_end|>");
        cfg.put("pad_token", "<|endoftext|>");
        cfg.put("chat_template", ChatTemplate.CHATML_JINJA);
        Files.writeString(dir.resolve("tokenizer_config.json"), cfg.toPrettyString());
    }

    private static void learnMerges(Map<String, Integer> vocab, List<String[]> merges, int target) {
        Map<List<String>, Integer> words = new HashMap<>();
        Matcher mt = Pattern.compile(Tokenizer.QWEN2_PATTERN).matcher(CORPUS.replace('\n', ' '));
        while (mt.find()) {
            List<String> parts = new ArrayList<>();
            for (byte b : mt.group().getBytes(StandardCharsets.UTF_8))
                parts.add(String.valueOf(Tokenizer.byteChar(b & 0xff)));
            words.merge(parts, 1, Integer::sum);
        }
        List<List<String>> ws = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        words.forEach((w, c) -> {
            ws.add(new ArrayList<>(w));
            counts.add(c);
        });
        while (vocab.size() < target) {
            Map<String, Integer> pairs = new HashMap<>();
            for (int i = 0; i < ws.size(); i++) {
                List<String> w = ws.get(i);
                for (int j = 0; j + 1 < w.size(); j++)
                    pairs.merge(w.get(j) + " " + w.get(j + 1), counts.get(i), Integer::sum);
            }
            String best = null;
            int bestCount = 1;
            for (var e : pairs.entrySet()) {
                int c = e.getValue();
                if (c > bestCount
                        || (c == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (best == null) return;
            int sp = best.indexOf(' ', 1);
            String a = best.substring(0, sp), b = best.substring(sp + 1), ab = a + b;
            merges.add(new String[] {a, b});
            vocab.putIfAbsent(ab, vocab.size());
            for (List<String> w : ws) {
                for (int j = 0; j + 1 < w.size(); j++) {
                    if (w.get(j).equals(a) && w.get(j + 1).equals(b)) {
                        w.set(j, ab);
                        w.remove(j + 1);
                    }
                }
            }
        }
    }

    private static void fillMerges(Map<String, Integer> vocab, List<String[]> merges, int target) {
        List<String> tokens = new ArrayList<>(vocab.keySet());
        SplittableRandom rnd = new SplittableRandom(0x5eed);
        while (vocab.size() < target) {
            String a = tokens.get(rnd.nextInt(tokens.size())), b = tokens.get(rnd.nextInt(tokens.size()));
            String ab = a + b;
            if (ab.length() > 16 || vocab.containsKey(ab)) continue;
            merges.add(new String[] {a, b});
            vocab.put(ab, vocab.size());
            tokens.add(ab);
        }
    }
}
