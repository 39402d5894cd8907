package dev.rolloutlab.openai;

import java.util.ArrayList;
import java.util.List;

/**
 * What an OpenAI-compatible server offers, asked of it directly: the model it serves and the endpoint it implements.
 */
public final class ServerProbe {
    private ServerProbe() {}

    /**
     * The one model this server serves, read from {@code /v1/models}. Fails with a message that says what to do when
     * the server cannot be reached or serves no model or several (listing them).
     */
    public static String servedModel(OpenAiClient c) {
        OpenAiClient.Exchange x = c.get("/v1/models");
        if (x.status() != 200) {
            throw new IllegalArgumentException("cannot ask " + c.baseUrl() + "/v1/models which model it serves ("
                    + (x.error() != null ? TransportError.plain(x.error()) : "HTTP " + x.status())
                    + "); check the server is up, or pass --model");
        }
        List<String> ids = new ArrayList<>();
        x.json().path("data").forEach(m -> ids.add(m.path("id").asText()));
        if (ids.size() == 1) return ids.get(0);
        if (ids.isEmpty()) throw new IllegalArgumentException(c.baseUrl() + "/v1/models lists no model; pass --model");
        throw new IllegalArgumentException(
                c.baseUrl() + " serves " + ids.size() + " models " + ids + "; choose one with --model");
    }

    /**
     * Which generation endpoint this server implements: completions unless it answers 404 or 405 there and not on chat.
     * One tiny request each (max_tokens 1), so {@code --endpoint auto} costs two requests at most.
     */
    public static CompletionRequest.Endpoint detectEndpoint(OpenAiClient c, String model) {
        OpenAiClient.Result first = c.complete(CompletionRequest.builder(CompletionRequest.Endpoint.COMPLETIONS)
                .model(model)
                .prompt("hi")
                .maxTokens(1)
                .build());
        if (first.status() != 404 && first.status() != 405) return CompletionRequest.Endpoint.COMPLETIONS;
        OpenAiClient.Result chat = c.complete(CompletionRequest.chat(model, "hi", 1, 1.0));
        return chat.status() == 404 || chat.status() == 405
                ? CompletionRequest.Endpoint.COMPLETIONS
                : CompletionRequest.Endpoint.CHAT;
    }
}
