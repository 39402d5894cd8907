package dev.rolloutlab.engine;

import dev.rolloutlab.testing.TestModels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TokenizerTest {
    final Tokenizer tok = Tokenizer.read(TestModels.tiny());

    @Test
    void roundTripsUnicodeAndSpecialTokens() {
        for (String s : new String[]{"hello world", "你是谁", "emoji 🎉 and tabs\tand\nnewlines", "  leading spaces", "It's 2026!"}) {
            assertEquals(s, tok.decode(tok.encode(s), false), s);
        }
        int[] ids = tok.encode("<|im_start|>user\nhi<|im_end|>");
        assertEquals(tok.specialId("<|im_start|>"), ids[0]);
        assertEquals(tok.specialId("<|im_end|>"), ids[ids.length - 1]);
        assertEquals("user\nhi", tok.decode(ids, true));
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
