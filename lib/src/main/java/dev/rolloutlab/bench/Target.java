package dev.rolloutlab.bench;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;

/**
 * Where the load generator sends one request, measured: an OpenAI server over HTTP, or (in {@code compare}) the
 * engine in this JVM. Implementations never throw for a failed request; they return a failed result.
 */
public interface Target {
    String name();

    OpenAiClient.Result send(CompletionRequest request);

    /** Requests currently in flight on this target, for least-outstanding routing. */
    default int outstanding() {
        return 0;
    }

    static Target http(OpenAiClient client) {
        return new Target() {
            @Override
            public String name() {
                return client.baseUrl();
            }

            @Override
            public OpenAiClient.Result send(CompletionRequest request) {
                return client.complete(request);
            }
        };
    }
}
