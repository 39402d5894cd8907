package dev.rolloutlab.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.checkpoint.HfJson;
import dev.rolloutlab.engine.checkpoint.ModelFormatException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte-level BPE as in Hugging Face {@code tokenizer.json} (GPT-2, Llama 3, Qwen2 families): added tokens are split out
 * first, then a pre-tokenizer regex, the GPT-2 byte-to-unicode map and ranked merges. Thread-safe.
 */
public final class Tokenizer {
    /** GPT-2's pre-tokenizer, used by {@code ByteLevel} with {@code use_regex: true}. */
    public static final String GPT2_PATTERN =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    /** Qwen2's pre-tokenizer; {@code model init} writes it. */
    public static final String QWEN2_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
            + "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final BytePairMerges merges;
    private final Pattern preTokenizer;
    private final Map<String, Integer> addedTokens;
    private final Pattern addedPattern;
    private final boolean[] special;
    /**
     * Pieces of short words already merged. Bounded in bytes: words of at most {@link #CACHED_WORD_CHARS} characters,
     * at most {@link #CACHED_WORDS} of them (a few MB); a long word is cheap to merge again and rarely repeats.
     */
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private static final int CACHED_WORD_CHARS = 32, CACHED_WORDS = 1 << 16;
    /** The most characters one token stands for: a text longer than limit times this has more than limit tokens. */
    private final int maxTokenChars;

    Tokenizer(Map<String, Integer> vocab, List<String[]> merges, String pattern, Map<String, Integer> added) {
        this.vocab = vocab;
        int size = 0;
        for (int id : vocab.values()) size = Math.max(size, id + 1);
        for (int id : added.values()) size = Math.max(size, id + 1);
        idToToken = new String[size];
        vocab.forEach((t, id) -> idToToken[id] = t);
        special = new boolean[size];
        added.forEach((t, id) -> {
            idToToken[id] = t;
            special[id] = true;
        });
        int longest = 1;
        for (String t : vocab.keySet()) longest = Math.max(longest, t.length());
        for (String t : added.keySet()) longest = Math.max(longest, t.length());
        maxTokenChars = longest;
        this.merges = new BytePairMerges(vocab, merges);
        preTokenizer = Pattern.compile(pattern);
        addedTokens = Map.copyOf(added);
        if (added.isEmpty()) {
            addedPattern = null;
        } else {
            List<String> keys = new ArrayList<>(added.keySet());
            keys.sort(Comparator.comparingInt(String::length).reversed());
            addedPattern = Pattern.compile(
                    String.join("|", keys.stream().map(Pattern::quote).toList()));
        }
    }

    public static Tokenizer read(Path dir) {
        Path file = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) throw new ModelFormatException(file + ": missing");
        JsonNode root;
        try {
            root = HfJson.MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFormatException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText("BPE")) || !model.has("vocab")) {
            throw new ModelFormatException(file + ": model.type must be BPE with a vocab (byte-level BPE only)");
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        model.get("vocab")
                .properties()
                .forEach(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        List<String[]> merges = new ArrayList<>();
        for (JsonNode m : model.path("merges")) {
            if (m.isArray())
                merges.add(new String[] {m.get(0).asText(), m.get(1).asText()});
            else {
                String s = m.asText();
                int sp = s.indexOf(' ', 1);
                if (sp < 0) throw new ModelFormatException(file + ": bad merge entry '" + s + "'");
                merges.add(new String[] {s.substring(0, sp), s.substring(sp + 1)});
            }
        }
        Map<String, Integer> added = new LinkedHashMap<>();
        for (JsonNode a : root.path("added_tokens"))
            added.put(a.path("content").asText(), a.path("id").asInt());
        return new Tokenizer(vocab, merges, patternOf(root.path("pre_tokenizer"), file), added);
    }

    private static String patternOf(JsonNode pre, Path file) {
        if (pre.isMissingNode() || pre.isNull()) return GPT2_PATTERN;
        String type = pre.path("type").asText();
        if (type.equals("ByteLevel")) return GPT2_PATTERN;
        if (type.equals("Split") && pre.path("pattern").has("Regex"))
            return pre.path("pattern").path("Regex").asText();
        if (type.equals("Sequence")) {
            for (JsonNode p : pre.path("pretokenizers")) {
                if (p.path("type").asText().equals("Split") && p.path("pattern").has("Regex")) {
                    return p.path("pattern").path("Regex").asText();
                }
            }
            return GPT2_PATTERN;
        }
        throw new ModelFormatException(file + ": unsupported pre_tokenizer type " + type);
    }

    /** Words held in the merge cache now (bounded; for tests and the curious). */
    public int cachedWords() {
        return cache.size();
    }

    public int vocabSize() {
        return idToToken.length;
    }

    /** Id of an added (special) token such as {@code <|im_end|>}, or -1. */
    public int specialId(String content) {
        return addedTokens.getOrDefault(content, -1);
    }

    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    public int[] encode(String text) {
        return encode(text, Integer.MAX_VALUE - 1);
    }

    /**
     * The ids of {@code text}, refusing it with {@link OverLimit} as soon as it is known to have more than
     * {@code limit} tokens: at once when its length alone says so, else when the count passes the limit. The work is
     * bounded by the limit, not by the text, and a refused text leaves nothing in the cache.
     */
    public int[] encode(String text, int limit) {
        // a token stands for at most maxTokenChars characters (UTF-16 units are never more than UTF-8 bytes)
        if ((long) text.length() > (long) limit * maxTokenChars)
            throw new OverLimit(limit, (int) Math.min(Integer.MAX_VALUE, (long) text.length() / maxTokenChars));
        Encoding e = new Encoding(limit, Math.min(text.length() / 3 + 4, limit + 1));
        if (addedPattern == null) {
            encodeOrdinary(text, e);
        } else {
            Matcher m = addedPattern.matcher(text);
            int last = 0;
            while (m.find()) {
                encodeOrdinary(text.substring(last, m.start()), e);
                e.add(addedTokens.get(m.group()));
                last = m.end();
            }
            encodeOrdinary(text.substring(last), e);
        }
        if (e.learned != null && cache.size() < CACHED_WORDS) cache.putAll(e.learned);
        return e.ids.toArray();
    }

    /** A text has more tokens than the caller allows; {@code atLeast} is a lower bound of how many. */
    public static final class OverLimit extends RuntimeException {
        public final int limit;
        public final int atLeast;

        OverLimit(int limit, int atLeast) {
            super("more than " + limit + " tokens (at least " + atLeast + ")", null, false, false);
            this.limit = limit;
            this.atLeast = atLeast;
        }
    }

    /** One encode call's output, its limit, and the words it merged for the cache once it succeeds. */
    private static final class Encoding {
        final int limit;
        final IntList ids;
        Map<String, int[]> learned;

        Encoding(int limit, int cap) {
            this.limit = limit;
            this.ids = new IntList(cap);
        }

        void add(int id) {
            ids.add(id);
            if (ids.n > limit) throw new OverLimit(limit, ids.n);
        }
    }

    private void encodeOrdinary(String text, Encoding e) {
        if (text.isEmpty()) return;
        Matcher m = preTokenizer.matcher(text);
        while (m.find()) {
            String word = m.group();
            int[] ids = cache.get(word);
            if (ids == null) {
                ids = merges.apply(word);
                if (word.length() <= CACHED_WORD_CHARS) {
                    if (e.learned == null) e.learned = new HashMap<>();
                    e.learned.put(word, ids);
                }
            }
            for (int id : ids) e.add(id);
        }
    }

    /** Decodes ids to text; special tokens are dropped when {@code skipSpecial}. */
    public String decode(int[] ids, boolean skipSpecial) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) appendBytes(id, skipSpecial, bytes);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The raw bytes of one token (UTF-8 for special tokens); a token may hold part of a multi-byte character. */
    public byte[] tokenBytes(int id) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        appendBytes(id, false, bytes);
        return bytes.toByteArray();
    }

    private void appendBytes(int id, boolean skipSpecial, ByteArrayOutputStream out) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) return;
        String t = idToToken[id];
        if (special[id]) {
            if (!skipSpecial) out.writeBytes(t.getBytes(StandardCharsets.UTF_8));
            return;
        }
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b >= 0) out.write(b);
            else out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
        }
    }

    static char byteChar(int b) {
        return BYTE_TO_CHAR[b];
    }

    /** Turns a token stream into text pieces, holding back bytes until they complete a UTF-8 character. */
    public final class Decoder {
        private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
        private final boolean skipSpecial;

        public Decoder(boolean skipSpecial) {
            this.skipSpecial = skipSpecial;
        }

        public String next(int id) {
            appendBytes(id, skipSpecial, pending);
            byte[] b = pending.toByteArray();
            int complete = completePrefix(b);
            pending.reset();
            pending.write(b, complete, b.length - complete);
            return new String(b, 0, complete, StandardCharsets.UTF_8);
        }

        /** Whatever is still held back, decoded leniently. */
        public String flush() {
            String s = pending.toString(StandardCharsets.UTF_8);
            pending.reset();
            return s;
        }

        private static int completePrefix(byte[] b) {
            int i = b.length;
            // walk back over at most 3 continuation bytes to the lead byte of the last character
            int back = 0;
            while (back < 4 && i - back - 1 >= 0 && (b[i - back - 1] & 0xC0) == 0x80) back++;
            int lead = i - back - 1;
            if (lead < 0) return b.length;
            int l = b[lead] & 0xff;
            int need = l >= 0xF0 ? 4 : l >= 0xE0 ? 3 : l >= 0xC0 ? 2 : 1;
            return (back + 1 >= need) ? b.length : lead;
        }
    }

    /** Growable int array, to avoid boxing on the encode path. */
    static final class IntList {
        private int[] a;
        private int n;

        IntList(int cap) {
            a = new int[Math.max(cap, 4)];
        }

        void add(int v) {
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        void addAll(int[] vs) {
            for (int v : vs) add(v);
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
