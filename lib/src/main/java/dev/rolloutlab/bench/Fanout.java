package dev.rolloutlab.bench;

import dev.rolloutlab.openai.CompletionRequest;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.util.HostPort;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * One request to every backend at once, answers in the order they arrive: {@code fanout_client}'s job, and {@code serve
 * --validate}'s check that every port answers.
 */
public final class Fanout {
    private Fanout() {}

    /** One backend's answer: its status (-1 when it could not be reached), how long it took, the text or the error. */
    public record Reply(String backend, int status, double seconds, String text, String error) {
        public boolean ok() {
            return status == 200 && error == null;
        }
    }

    /**
     * Sends {@code request} to every backend with at most {@code workers} in flight; {@code onReply} sees each answer
     * as it arrives. Returns all replies in arrival order.
     */
    public static List<Reply> send(
            List<String> backends,
            CompletionRequest request,
            String apiKey,
            int workers,
            Duration timeout,
            Consumer<Reply> onReply)
            throws InterruptedException {
        var http = OpenAiClient.http(Math.max(1, workers), timeout);
        List<Reply> replies = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(
                Math.max(1, Math.min(workers, backends.size())),
                Thread.ofVirtual().factory())) {
            ExecutorCompletionService<Reply> done = new ExecutorCompletionService<>(pool);
            for (String b : backends) {
                done.submit(() -> {
                    String url = HostPort.url(b);
                    OpenAiClient.Result r = new OpenAiClient(http, url, apiKey, true).complete(request);
                    return new Reply(
                            hostPort(url),
                            r.status(),
                            (r.endNs() - r.sentNs()) / 1e9,
                            r.ok() ? r.text() : null,
                            r.error());
                });
            }
            for (int i = 0; i < backends.size(); i++) {
                Reply r;
                try {
                    r = done.take().get();
                } catch (ExecutionException e) {
                    r = new Reply("?", -1, 0, null, String.valueOf(e.getCause()));
                }
                replies.add(r);
                onReply.accept(r);
            }
        }
        return replies;
    }

    private static String hostPort(String url) {
        URI u = URI.create(url);
        return u.getHost() == null ? url : u.getHost() + ":" + u.getPort();
    }
}
