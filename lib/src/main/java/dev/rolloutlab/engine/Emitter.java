package dev.rolloutlab.engine;

import dev.rolloutlab.engine.checkpoint.ModelConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Records one sampled token on its sequence (id, logprob, the weights version it was sampled under, its text) and
 * applies the stop rules: stop ids or EOS, stop strings, length. The scheduler finishes the sequence on a reason.
 */
final class Emitter {
    private final ModelConfig config;
    private final Sampler sampler;
    private final TokenRate rate;
    private final Set<Integer> defaultStops;

    Emitter(ModelConfig config, Sampler sampler, TokenRate rate, List<Integer> defaultStops) {
        this.config = config;
        this.sampler = sampler;
        this.rate = rate;
        this.defaultStops = Set.copyOf(defaultStops);
    }

    /**
     * Takes {@code pick} as the next token of {@code s} (logits row {@code row}); returns why {@code s} ends now, or
     * null.
     */
    FinishReason emit(Seq s, float[] logits, int row, Sampler.Pick pick, long version) {
        SamplingParams p = s.job.request.params();
        int off = row * config.vocabSize();
        int tok = pick.token();
        float lp = pick.logprob();
        if (s.count == s.tokens.length) {
            s.tokens = Arrays.copyOf(s.tokens, s.count * 2);
            s.logprobs = Arrays.copyOf(s.logprobs, s.count * 2);
            s.versions = Arrays.copyOf(s.versions, s.count * 2);
        }
        s.tokens[s.count] = tok;
        s.logprobs[s.count] = lp;
        s.versions[s.count] = version;
        s.count++;
        if (p.topLogprobs() > 0) s.tops.add(sampler.top(logits, off, logits[off + tok] - lp, p.topLogprobs()));
        rate.count();
        boolean eos = !p.ignoreEos()
                && (s.job.stopIds.get(tok) || (p.stopTokenIds().isEmpty() && defaultStops.contains(tok)));
        String piece = eos ? "" : s.decoder.next(tok);
        FinishReason finish = eos ? FinishReason.STOP : null;
        boolean cutByStop = false;
        if (!piece.isEmpty() && !p.stop().isEmpty()) {
            int before = s.text.length();
            s.text.append(piece);
            int cut = StopStrings.indexIn(s.text, p.stop(), Math.max(0, before - StopStrings.maxLength(p.stop())));
            if (cut >= 0) {
                piece = cut > before ? s.text.substring(before, cut) : "";
                s.text.setLength(Math.max(cut, 0));
                finish = FinishReason.STOP;
                cutByStop = true;
            }
        } else {
            s.text.append(piece);
        }
        if (finish == null && (s.count >= p.maxTokens() || s.pos >= config.maxPositions()))
            finish = FinishReason.LENGTH;
        if (finish != null && !cutByStop) {
            // bytes of an unfinished character at the very end still belong to the text, streamed or not
            String tail = s.decoder.flush();
            piece += tail;
            s.text.append(tail);
        }
        s.job.listener.onToken(s.index, tok, lp, version, piece);
        return finish;
    }
}
