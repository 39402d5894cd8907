package dev.rolloutlab.bench;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.util.TraceParent;
import java.util.function.ToIntFunction;

/**
 * Where the load generator sends one request, measured: an OpenAI server over HTTP, or (in {@code compare}) the engine
 * in this JVM. Implementations never throw for a failed request; they return a failed result.
 */
public interface Target {
    String name();

    OpenAiClient.Result send(CompletionRequest request);

    /** Sends it as part of {@code trace} (W3C {@code traceparent}); a target without HTTP has no header to carry it. */
    default OpenAiClient.Result send(CompletionRequest request, TraceParent trace) {
        return send(request);
    }

    /** Tokens in {@code text} by the served model's tokenizer, for servers that send no usage; -1 when unknown. */
    default int countTokens(String text) {
        return -1;
    }

    /** Requests currently in flight on this target, for least-outstanding routing. */
    default int outstanding() {
        return 0;
    }

    static Target http(OpenAiClient client) {
        return http(client, null);
    }

    /** An HTTP target whose missing usage is counted with {@code tokenizer} (null: left unknown). */
    static Target http(OpenAiClient client, ToIntFunction<String> tokenizer) {
        return new Target() {
            @Override
            public int countTokens(String text) {
                return tokenizer == null || text == null ? -1 : tokenizer.applyAsInt(text);
            }

            @Override
            public String name() {
                return client.baseUrl();
            }

            @Override
            public OpenAiClient.Result send(CompletionRequest request) {
                return client.complete(request);
            }

            @Override
            public OpenAiClient.Result send(CompletionRequest request, TraceParent trace) {
                return client.complete(request, trace);
            }
        };
    }
}
