package dev.rolloutlab.server;

import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.tokenizer.ChatTemplate;
import dev.rolloutlab.engine.tokenizer.Tokenizer;
import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiException;

/**
 * A request's prompt as token ids, refused as soon as they cannot fit the context beside {@code max_tokens}: tokenising
 * stops there, so a huge prompt costs no more than one that fits, and it leaves nothing in the cache.
 */
final class PromptTokens {
    private final InProcessEngine engine;
    private final ChatTemplate template;

    PromptTokens(InProcessEngine engine, ChatTemplate template) {
        this.engine = engine;
        this.template = template;
    }

    int[] tokens(CompletionRequest req) {
        if (req.promptTokenIds() != null) return req.promptTokenIds();
        boolean chat = req.endpoint() == CompletionRequest.Endpoint.CHAT;
        int context = engine.config().maxPositions();
        try {
            String text = chat ? template.render(req.messages()) : req.prompt();
            // max_tokens alone past the context is max_tokens' fault (the engine says so); the prompt is still bounded
            int budget = req.maxTokens() < context ? context - req.maxTokens() : context;
            return engine.tokenizer().encode(text, budget);
        } catch (Tokenizer.OverLimit e) {
            throw OpenAiException.badRequest(
                    chat ? "messages" : "prompt",
                    "this model's maximum context length is " + context
                            + " tokens; the prompt has more than " + e.limit + " (at least " + e.atLeast
                            + "), which with max_tokens "
                            + req.maxTokens() + " does not fit; shorten the prompt or lower max_tokens");
        }
    }
}
