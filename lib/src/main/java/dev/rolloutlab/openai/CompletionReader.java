package dev.rolloutlab.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.http1.HttpIn;
import dev.rolloutlab.openai.OpenAiClient.Result;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Reads a completion's 200 answer into a {@link Result}: a whole JSON body, or a stream of server-sent events. */
final class CompletionReader {
    private CompletionReader() {}

    /** A whole JSON answer (no stream, or a server that ignored {@code stream: true}: no first token to time). */
    static Result whole(HttpIn.Body in, String backend, long version, long sent, CompletionRequest r, long connect)
            throws IOException {
        byte[] body = in.readAll(64 << 20);
        long end = System.nanoTime();
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            String text = new String(body, 0, Math.min(200, body.length), StandardCharsets.UTF_8);
            return Result.unusable(200, backend, version, sent, end, "not an OpenAI response: " + text, connect);
        }
        JsonNode choices = n.path("choices");
        if (!choices.isArray() || choices.isEmpty()) {
            return Result.unusable(200, backend, version, sent, end, "response has no choices", connect);
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode c : choices)
            text.append(
                    r.endpoint() == CompletionRequest.Endpoint.CHAT
                            ? c.path("message").path("content").asText("")
                            : c.path("text").asText(""));
        int[] ids = tokenIds(choices.get(0).path("token_ids"));
        JsonNode u = n.path("usage");
        // -1: the server did not say (no usage); the caller may count with a tokenizer
        return new Result(
                200,
                backend,
                version,
                sent,
                r.stream() ? -1 : end,
                end,
                u.path("prompt_tokens").asInt(-1),
                u.path("completion_tokens").asInt(-1),
                new long[0],
                text.toString(),
                ids,
                null,
                connect);
    }

    /**
     * A server-sent event stream, chunk by chunk: each token chunk's arrival, the text, sample 0's token ids when asked
     * for, usage and the server's timings from the last chunk. A stream cut short keeps what arrived, with the error.
     */
    static Result stream(HttpIn.Body in, String backend, long version, long sent, CompletionRequest r, long connect)
            throws IOException {
        SseLines src = new SseLines(in);
        long first = -1;
        long[] chunks = new long[Math.min(r.maxTokens() * r.n(), 4096) + 1];
        int nChunks = 0;
        int prompt = -1, completion = -1; // unknown until a usage chunk says
        ServerTimings streamed = ServerTimings.NONE;
        StringBuilder text = new StringBuilder();
        // token ids of sample 0, when the request asked for them (a session's next turn resends them)
        int[] ids = r.returnTokenIds() ? new int[Math.min(r.maxTokens(), 4096)] : null;
        int nIds = 0;
        boolean sawDone = false;
        boolean chat = r.endpoint() == CompletionRequest.Endpoint.CHAT;
        String data;
        String cut = null;
        while (true) {
            try {
                data = src.nextData();
            } catch (IOException e) { // keep what arrived before the stream broke
                cut = "stream cut after " + nChunks + " chunks: " + TransportError.describe(e);
                break;
            }
            if (data == null) break;
            if (data.equals("[DONE]")) {
                sawDone = true;
                break;
            }
            long now = System.nanoTime();
            JsonNode n;
            try {
                n = Json.parse(data);
            } catch (IOException e) { // keep what arrived before it, as for a cut stream
                cut = "bad SSE data: " + data.substring(0, Math.min(200, data.length()));
                break;
            }
            JsonNode st = n.get("server_timing");
            if (st != null) streamed = ServerTimings.NONE.withStream(st);
            JsonNode u = n.get("usage");
            if (u != null && !u.isNull()) {
                prompt = u.path("prompt_tokens").asInt(-1);
                completion = u.path("completion_tokens").asInt(-1);
            }
            for (JsonNode c : n.path("choices")) {
                // a token chunk carries content (possibly "" mid-character); role and finish chunks do not
                boolean token = !c.hasNonNull("finish_reason")
                        && (!chat
                                || c.path("delta").has("content")
                                        && !c.path("delta").has("role"));
                if (token) {
                    if (first < 0) first = now;
                    if (nChunks == chunks.length) chunks = Arrays.copyOf(chunks, nChunks * 2);
                    chunks[nChunks++] = now;
                    if (ids != null && c.path("index").asInt() == 0)
                        for (JsonNode id : c.path("token_ids")) {
                            if (nIds == ids.length) ids = Arrays.copyOf(ids, nIds * 2 + 1);
                            ids[nIds++] = id.asInt();
                        }
                }
                text.append(
                        chat
                                ? c.path("delta").path("content").asText("")
                                : c.path("text").asText(""));
            }
        }
        if (sawDone) {
            try {
                src.drain(); // read to the end of the body so the connection can be reused
            } catch (IOException e) {
                // the answer is whole; a body cut after [DONE] only means this connection is not reused
            }
        }
        long end = System.nanoTime();
        String error = cut != null ? cut : sawDone ? null : "stream ended without [DONE]";
        return new Result(
                200,
                backend,
                version,
                sent,
                first,
                end,
                prompt,
                completion,
                Arrays.copyOf(chunks, nChunks),
                text.toString(),
                ids == null ? null : Arrays.copyOf(ids, nIds),
                error,
                connect,
                streamed);
    }

    private static int[] tokenIds(JsonNode n) {
        if (n == null || !n.isArray()) return null;
        int[] ids = new int[n.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = n.get(i).asInt();
        return ids;
    }
}
