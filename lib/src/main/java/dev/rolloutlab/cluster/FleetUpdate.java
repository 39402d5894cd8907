package dev.rolloutlab.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.Drain;
import dev.rolloutlab.openai.OpenAiClient;
import dev.rolloutlab.util.Sha256;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import okhttp3.OkHttpClient;

/**
 * A weight update across a fleet as a transaction. Phase 1 stages the payload on every server, checksummed, while they
 * keep serving the old weights; phase 2 commits everywhere only when every server staged. A server that fails staging
 * aborts the update everywhere, so the fleet stays on its old version, and the outcome names who failed and why.
 * {@link #plain} is the same push without the transaction, for comparison.
 */
public final class FleetUpdate {
    /**
     * What one server did: its stage and commit answers, the version and checksum it ended on, the pause it saw, and
     * its drain (null without {@code --drain}).
     */
    public record Server(
            String url,
            int stageStatus,
            String stageError,
            int commitStatus,
            String commitError,
            long version,
            double checksum,
            double pauseMs,
            Drain drain) {
        boolean staged() {
            return stageStatus == 200;
        }
    }

    /** The update as a whole: whether it committed, why not, each server, and the time each phase took. */
    public record Outcome(
            boolean committed,
            String reason,
            List<Server> servers,
            double stageMs,
            double commitMs,
            double wallMs,
            long bytes) {}

    private FleetUpdate() {}

    /**
     * Stage on all, then commit on all; any failed stage aborts everywhere. {@code baseVersion} null: each server's
     * own. {@code drain} null: the commit swaps at once and requests in flight finish on the new weights.
     */
    public static Outcome atomic(
            OkHttpClient http,
            List<String> urls,
            byte[] payload,
            Long baseVersion,
            Duration drain,
            Map<String, String> admin) {
        long t0 = System.nanoTime();
        String id = "u"
                + HexFormat.of()
                        .formatHex(java.nio.ByteBuffer.allocate(8)
                                .putLong(new java.security.SecureRandom().nextLong())
                                .array());
        Map<String, String> h = new LinkedHashMap<>(admin);
        h.put("X-Stage-Id", id);
        h.put("X-Payload-Sha256", Sha256.hex(payload));
        if (baseVersion != null) h.put("X-Base-Version", String.valueOf(baseVersion));
        List<OpenAiClient.Exchange> staged = each(
                urls, u -> client(http, u).postBytes("/admin/stage_weights", payload, "application/octet-stream", h));
        double stageMs = (System.nanoTime() - t0) / 1e6;
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < urls.size(); i++)
            if (!staged.get(i).ok()) failed.add(urls.get(i) + " (" + why(staged.get(i)) + ")");
        if (!failed.isEmpty()) {
            // abort everywhere, also where staging failed: a server may have staged and then lost the answer
            each(urls, u -> client(http, u).post("/admin/abort_weights", Map.of("stage_id", id), admin));
            List<Server> servers = new ArrayList<>();
            for (int i = 0; i < urls.size(); i++) servers.add(server(urls.get(i), staged.get(i), null, http, admin));
            return new Outcome(
                    false,
                    "staging failed on " + failed.size() + " of " + urls.size() + " server(s): "
                            + String.join("; ", failed) + "; aborted everywhere, the fleet stays on its old weights",
                    servers,
                    stageMs,
                    0,
                    (System.nanoTime() - t0) / 1e6,
                    payload.length);
        }
        long t1 = System.nanoTime();
        Map<String, Object> commit = new LinkedHashMap<>();
        commit.put("stage_id", id);
        if (drain != null) commit.put("drain_ms", drain.toMillis());
        List<OpenAiClient.Exchange> committed =
                each(urls, u -> client(http, u).post("/admin/commit_weights", commit, admin));
        double commitMs = (System.nanoTime() - t1) / 1e6;
        List<Server> servers = new ArrayList<>();
        List<String> lost = new ArrayList<>();
        for (int i = 0; i < urls.size(); i++) {
            servers.add(server(urls.get(i), staged.get(i), committed.get(i), http, admin));
            if (!committed.get(i).ok()) lost.add(urls.get(i) + " (" + why(committed.get(i)) + ")");
        }
        String reason = lost.isEmpty()
                ? null
                : "every server staged, but the commit failed on " + String.join("; ", lost)
                        + ": those servers keep their old weights until updated again";
        return new Outcome(
                lost.isEmpty(), reason, servers, stageMs, commitMs, (System.nanoTime() - t0) / 1e6, payload.length);
    }

    /**
     * The one weights version every server is on, for a delta that must fit them all; refused (naming the server or the
     * versions seen) when one does not answer or they disagree.
     */
    public static long commonVersion(OkHttpClient http, List<String> urls, Map<String, String> headers) {
        Set<Long> seen = new TreeSet<>();
        for (String u : urls) {
            OpenAiClient.Exchange x = new OpenAiClient(http, u, null, true).getWith("/admin/weights_checksum", headers);
            if (!x.ok())
                throw new IllegalStateException(u + " did not report its version (" + x.status() + " "
                        + (x.error() != null ? x.error() : x.body().trim()) + "); give --base-version");
            seen.add(x.json().path("version").asLong());
        }
        if (seen.size() != 1)
            throw new IllegalStateException("the servers are on different versions " + seen
                    + ": one delta cannot fit them all; push full weights");
        return seen.iterator().next();
    }

    /** Pushes to every server at once without staging: each installs when its push arrives, whatever the others do. */
    public static Outcome plain(
            OkHttpClient http,
            List<String> urls,
            byte[] payload,
            Long baseVersion,
            Duration drain,
            Map<String, String> admin) {
        long t0 = System.nanoTime();
        Map<String, String> h = new LinkedHashMap<>(admin);
        if (baseVersion != null) h.put("X-Base-Version", String.valueOf(baseVersion));
        if (drain != null) h.put("X-Drain-Ms", String.valueOf(drain.toMillis()));
        List<OpenAiClient.Exchange> pushed = each(
                urls, u -> client(http, u).postBytes("/admin/update_weights", payload, "application/octet-stream", h));
        List<Server> servers = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < urls.size(); i++) {
            servers.add(server(urls.get(i), null, pushed.get(i), http, admin));
            if (!pushed.get(i).ok()) failed.add(urls.get(i) + " (" + why(pushed.get(i)) + ")");
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        return new Outcome(
                failed.isEmpty(),
                failed.isEmpty()
                        ? null
                        : "the update failed on " + String.join("; ", failed)
                                + " while the others installed it: the fleet serves mixed versions",
                servers,
                0,
                ms,
                ms,
                payload.length);
    }

    private static Server server(
            String url,
            OpenAiClient.Exchange stage,
            OpenAiClient.Exchange commit,
            OkHttpClient http,
            Map<String, String> admin) {
        JsonNode c = commit != null && commit.ok() ? commit.json() : null;
        long version = c != null ? c.path("version").asLong(-1) : -1;
        double checksum = c != null ? c.path("checksum").asDouble(Double.NaN) : Double.NaN;
        if (c == null) { // not committed: read where the server stands now, if it answers at all
            OpenAiClient.Exchange now = client(http, url).getWith("/admin/weights_checksum", admin);
            if (now.ok()) {
                version = now.json().path("version").asLong(-1);
                checksum = now.json().path("checksum").asDouble(Double.NaN);
            }
        }
        double pause = c == null
                ? Double.NaN
                : c.has("pause_ms")
                        ? c.path("pause_ms").asDouble()
                        : c.path("elapsed_sec").asDouble(Double.NaN) * 1000;
        JsonNode d = c == null ? null : c.get("drain");
        Drain drained = d == null
                ? null
                : new Drain(
                        d.path("quiesce_ms").asDouble(),
                        d.path("in_flight").asInt(),
                        d.path("aborted").asInt(),
                        d.path("tokens_thrown_away").asLong());
        return new Server(
                url,
                stage == null ? 0 : stage.status(),
                stage == null || stage.ok() ? null : why(stage),
                commit == null ? 0 : commit.status(),
                commit == null || commit.ok() ? null : why(commit),
                version,
                checksum,
                pause,
                drained);
    }

    private static OpenAiClient client(OkHttpClient http, String url) {
        return new OpenAiClient(http, url, null, true);
    }

    private static String why(OpenAiClient.Exchange x) {
        if (x.error() != null) return x.error();
        String e = x.ok() ? "" : x.json().path("error").asText("");
        return x.status() + (e.isEmpty() ? "" : " " + e);
    }

    /** One call per server, all at once; answers in the order of {@code urls}. */
    private static List<OpenAiClient.Exchange> each(List<String> urls, Function<String, OpenAiClient.Exchange> call) {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<OpenAiClient.Exchange>> fs = new ArrayList<>();
            for (String u : urls) fs.add(pool.submit(() -> call.apply(u)));
            List<OpenAiClient.Exchange> out = new ArrayList<>();
            for (var f : fs) {
                try {
                    out.add(f.get());
                } catch (Exception e) {
                    out.add(new OpenAiClient.Exchange(
                            0, "", Map.of(), String.valueOf(e.getCause() != null ? e.getCause() : e)));
                }
            }
            return out;
        }
    }
}
