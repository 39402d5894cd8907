package dev.rolloutlab.server;

import dev.rolloutlab.engine.Sample;
import dev.rolloutlab.engine.TopLogprob;
import dev.rolloutlab.engine.tokenizer.Tokenizer;
import dev.rolloutlab.openai.Wire;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-token logprobs in OpenAI's two shapes: chat ({@code content[]} with bytes and top alternatives) and text
 * completions.
 */
final class Logprobs {
    private final Tokenizer tokenizer;

    Logprobs(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    String tokenText(int id) {
        return new String(tokenizer.tokenBytes(id), StandardCharsets.UTF_8);
    }

    Wire.TokenLogprob token(int id, double lp, List<TopLogprob> tops) {
        byte[] b = tokenizer.tokenBytes(id);
        List<Wire.TopToken> top = new ArrayList<>();
        for (TopLogprob t : tops) {
            byte[] tb = tokenizer.tokenBytes(t.tokenId());
            top.add(new Wire.TopToken(new String(tb, StandardCharsets.UTF_8), t.logprob(), unsigned(tb)));
        }
        return new Wire.TokenLogprob(new String(b, StandardCharsets.UTF_8), lp, unsigned(b), top);
    }

    private static int[] unsigned(byte[] b) {
        int[] r = new int[b.length];
        for (int i = 0; i < b.length; i++) r[i] = b[i] & 0xff;
        return r;
    }

    Wire.ChatLogprobs chat(Sample s, int from, int to) {
        List<Wire.TokenLogprob> content = new ArrayList<>();
        for (int i = from; i < to; i++) {
            content.add(token(
                    s.tokenIds()[i],
                    s.logprobs()[i],
                    s.topLogprobs().isEmpty() ? List.of() : s.topLogprobs().get(i)));
        }
        return new Wire.ChatLogprobs(content);
    }

    Wire.TextLogprobs text(Sample s, int top) {
        List<String> tokens = new ArrayList<>();
        List<Double> lps = new ArrayList<>();
        List<Map<String, Double>> tops = top > 0 ? new ArrayList<>() : null;
        List<Integer> offsets = new ArrayList<>();
        int off = 0;
        for (int i = 0; i < s.completionTokens(); i++) {
            String t = tokenText(s.tokenIds()[i]);
            tokens.add(t);
            lps.add((double) s.logprobs()[i]);
            offsets.add(off);
            off += t.length();
            if (tops != null) {
                Map<String, Double> m = new LinkedHashMap<>();
                for (TopLogprob tl : s.topLogprobs().get(i))
                    m.putIfAbsent(tokenText(tl.tokenId()), (double) tl.logprob());
                tops.add(m);
            }
        }
        return new Wire.TextLogprobs(tokens, lps, tops, offsets);
    }
}
