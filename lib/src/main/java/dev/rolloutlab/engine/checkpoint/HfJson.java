package dev.rolloutlab.engine.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The engine's one JSON mapper, for Hugging Face files (config.json, tokenizer.json, safetensors headers) read as
 * trees. The engine imports nothing of ours, so it does not share {@code util.Json}'s wire mapper.
 */
public final class HfJson {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private HfJson() {}
}
