package dev.rolloutlab.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.checkpoint.HfJson;
import dev.rolloutlab.testing.TestModels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("fast") // the edit loop: tests/run --fast
class TokenizerTest {
    final Tokenizer tok = Tokenizer.read(TestModels.tiny());

    @Test
    void roundTripsUnicodeAndSpecialTokens() {
        for (String s :
                new String[] {"hello world", "你是谁", "emoji 🎉 and tabs\tand\nnewlines", "  leading spaces", "It's 2026!"
                }) {
            assertEquals(s, tok.decode(tok.encode(s), false), s);
        }
        int[] ids = tok.encode("<|im_start|>user\nhi<|im_end|>");
        assertEquals(tok.specialId("<|im_start|>"), ids[0]);
        assertEquals(tok.specialId("<|im_end|>"), ids[ids.length - 1]);
        assertEquals("user\nhi", tok.decode(ids, true));
    }

    /**
     * The textbook merge loop: rescan every pair, merge the lowest-ranked leftmost one, repeat (quadratic, obviously
     * right).
     */
    static List<String> naiveMerge(String word, Map<String, Integer> ranks) {
        List<String> parts = new ArrayList<>();
        for (byte b : word.getBytes(StandardCharsets.UTF_8)) parts.add(String.valueOf(Tokenizer.byteChar(b & 0xff)));
        while (parts.size() > 1) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer r = ranks.get(parts.get(i) + " " + parts.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) break;
            parts.set(best, parts.get(best) + parts.get(best + 1));
            parts.remove(best + 1);
        }
        return parts;
    }

    @Test
    void heapMergingGivesTheSamePiecesAsTheTextbookLoop() throws Exception {
        JsonNode model = HfJson.MAPPER
                .readTree(TestModels.tiny().resolve("tokenizer.json").toFile())
                .path("model");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        model.get("vocab")
                .fields()
                .forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        List<String[]> merges = new ArrayList<>();
        Map<String, Integer> ranks = new HashMap<>();
        for (JsonNode m : model.path("merges")) {
            String[] pair = m.isArray()
                    ? new String[] {m.get(0).asText(), m.get(1).asText()}
                    : m.asText().split(" ", 2);
            ranks.putIfAbsent(pair[0] + " " + pair[1], merges.size());
            merges.add(pair);
        }
        BytePairMerges heap = new BytePairMerges(vocab, merges);
        SplittableRandom rng = new SplittableRandom(7);
        String alphabet = "the rollout is a sample, of weights and tokens: aaaa eeee 你好 🎉\t\n";
        for (int n = 0; n < 2000; n++) {
            StringBuilder w = new StringBuilder();
            int len = 1 + rng.nextInt(40);
            for (int i = 0; i < len; i++)
                w.appendCodePoint(alphabet.codePointAt(
                        alphabet.offsetByCodePoints(0, rng.nextInt(alphabet.codePointCount(0, alphabet.length())))));
            String word = w.toString();
            int[] expected =
                    naiveMerge(word, ranks).stream().mapToInt(vocab::get).toArray();
            assertArrayEquals(expected, heap.apply(word), word);
        }
    }

    @Test
    void oneLongWordTokenisesInNearLinearTime() {
        // 48k characters: the quadratic loop took 2.2 s at 12k, so about 36 s here; n log n takes tens of ms. The bound
        // of 2 s leaves a factor of 20 for a slow, shared machine and still fails the quadratic loop by 18x.
        String word = "the".repeat(16_000);
        long t0 = System.nanoTime();
        int[] ids = tok.encode(word);
        double sec = (System.nanoTime() - t0) / 1e9;
        assertTrue(ids.length > 0);
        assertTrue(sec < 2, "a 48k-character word took " + sec + " s");
        var refused = assertThrows(Tokenizer.OverLimit.class, () -> tok.encode("the".repeat(1_000_000), 512));
        assertEquals(512, refused.limit);
    }

    @Test
    void learnedMergesCompressEnglish() {
        String text = "The rollout phase is inference, and the trainer updates the weights.";
        int[] ids = tok.encode(text);
        assertTrue(ids.length < text.getBytes().length / 2, "only " + ids.length + " tokens expected well below bytes");
    }

    @Test
    void streamingDecoderHoldsBackPartialCharacters() {
        int[] ids = tok.encode("你是谁");
        Tokenizer.Decoder d = tok.new Decoder(true);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            String piece = d.next(id);
            assertFalse(piece.contains("\uFFFD"), "no replacement characters mid-stream");
            sb.append(piece);
        }
        sb.append(d.flush());
        assertEquals("你是谁", sb.toString());
    }
}
