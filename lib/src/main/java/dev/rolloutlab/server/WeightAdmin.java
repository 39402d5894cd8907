package dev.rolloutlab.server;

import dev.rolloutlab.engine.Drain;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.PerturbResult;
import dev.rolloutlab.engine.checkpoint.ModelFormatException;
import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.engine.kernels.Tensor;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.SparseDelta;
import dev.rolloutlab.engine.model.VersionConflict;
import dev.rolloutlab.engine.model.Weights;
import dev.rolloutlab.util.Sha256;
import dev.rolloutlab.util.SpanLog;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The weight endpoints of one engine: checksum, perturb, reload from a folder, update from pushed safetensors or a
 * sparse delta, and the two phases of a fleet transaction (stage while serving the old weights, then commit: a pointer
 * swap). Changes run one at a time on their own thread; while one runs, {@link #reloading()} is true and the server
 * answers non-admin requests with 503. A rejected change, or one that misses its deadline, leaves the weights and
 * version as they were.
 */
final class WeightAdmin implements AutoCloseable {
    private final InProcessEngine engine;
    private final Duration deadline;
    /** The change in progress, or null; a late finisher must not clear the mark of a newer change. */
    private final AtomicReference<Gate> current = new AtomicReference<>();

    private ExecutorService worker;
    private volatile Map<String, Object> lastOk;
    private volatile String lastError;
    /** Weights staged for a commit: prepared (parsed, checked, copied) from the serving version, not yet installed. */
    private final AtomicReference<Staged> staged = new AtomicReference<>();

    private final WeightEvents events;

    private record Staged(String id, Weights weights, int tensors, long bytes, String sha256, long atNs) {}

    /**
     * {@code model}: the name the engine is served under, for the metrics' {@code model_name} label; {@code spans}:
     * where its changes go on a run's timeline ({@link SpanLog#OFF}: nowhere).
     */
    public WeightAdmin(InProcessEngine engine, Duration deadline, String model, SpanLog spans) {
        this.engine = engine;
        this.deadline = deadline;
        this.worker = newWorker();
        this.events = new WeightEvents(engine.name(), model, spans);
    }

    WeightEvents events() {
        return events;
    }

    private ExecutorService newWorker() {
        return Executors.newSingleThreadExecutor(Thread.ofPlatform()
                .name("weights-" + engine.name())
                .daemon(true)
                .factory());
    }

    public boolean reloading() {
        return current.get() != null;
    }

    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("reloading", reloading());
        m.put("last_ok", lastOk);
        m.put("last_error", lastError);
        m.put("weights_version", engine.weights().version());
        Staged st = staged.get();
        m.put("staged", st == null ? null : st.id());
        return m;
    }

    public Map<String, Object> checksum() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", true);
        m.put("checksum", engine.weights().checksum());
        m.put("version", engine.weights().version());
        return m;
    }

    public Map<String, Object> perturb(long seed, double scale, Integer numLeaves) {
        return change(WeightEvents.Kind.PERTURB, "in_memory_noise", gate -> {
            PerturbResult r = gate.install(() -> engine.perturb(seed, scale, numLeaves));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("num_leaves", r.numLeaves());
            m.put("checksum_before", r.checksumBefore());
            m.put("checksum_after", r.checksumAfter());
            m.put("checksum_delta", r.checksumAfter() - r.checksumBefore());
            m.put("version", r.version());
            return m;
        });
    }

    /**
     * Loads every tensor from a model folder (regular files only, validated against the running model) and installs
     * them.
     */
    public Map<String, Object> reload(String modelPath) {
        Path dir;
        try {
            dir = Path.of(modelPath).toAbsolutePath();
        } catch (InvalidPathException e) {
            throw new ModelFormatException("model_path is not a valid path: " + e.getReason());
        }
        return change(WeightEvents.Kind.RELOAD, dir.toString(), gate -> {
            if (!Files.isDirectory(dir))
                throw new ModelFormatException("model_path " + modelPath + " is not a directory");
            Map<String, Tensor> tensors;
            try {
                tensors = Checkpoint.readTensors(dir);
            } catch (
                    ModelFormatException
                            e) { // name files as the operator gave the folder, not by our working directory
                throw new ModelFormatException(e.getMessage().replace(dir.toString(), modelPath));
            }
            long v = gate.install(() -> engine.updateWeights(tensors));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model_path", dir.toString());
            m.put("num_tensors", tensors.size());
            m.put("version", v);
            return m;
        });
    }

    /**
     * Installs tensors pushed as a safetensors body (a partial set replaces only those tensors) or as a sparse delta.
     * With {@code baseVersion}, or always for a delta, the serving version must be the base: else 409, nothing changes.
     */
    public Map<String, Object> update(byte[] body, Long baseVersion, Duration drain) {
        return change(WeightEvents.Kind.UPDATE, "http_push", gate -> {
            Weights cur = engine.weights();
            Map<String, Tensor> tensors = tensors(body, baseVersion, cur);
            Weights next = cur.withUpdates(tensors, cur.version() + 1);
            Map<String, Object> m = new LinkedHashMap<>();
            drain(drain, m);
            long v = gate.install(() -> engine.install(next));
            m.put("num_tensors", tensors.size());
            m.put("format", SparseDelta.looksLike(body) ? "sparse_delta" : "safetensors");
            m.put("bytes", body.length);
            m.put("version", v);
            m.put("checksum", engine.weights().checksum());
            return m;
        });
    }

    /** The full tensors a pushed body makes of the serving weights, after the base-version check. */
    private static Map<String, Tensor> tensors(byte[] body, Long baseVersion, Weights cur) {
        if (baseVersion != null && baseVersion != cur.version()) {
            throw new VersionConflict("base version " + baseVersion + " is not the serving version " + cur.version()
                    + "; nothing changed");
        }
        Map<String, Tensor> t = SparseDelta.looksLike(body)
                ? SparseDelta.parse(body, "request body").applyTo(cur)
                : Safetensors.parse(body, "request body");
        if (t.isEmpty()) throw new ModelFormatException("request body holds no tensors");
        return t;
    }

    /**
     * Phase 1 of a fleet update: checks the payload against its SHA-256, parses and validates it against the serving
     * weights and prepares the next version beside them, while this server keeps serving. A new stage replaces an older
     * one. Nothing changes for clients until {@link #commit}.
     */
    public Map<String, Object> stage(String id, byte[] body, String sha256, Long baseVersion) {
        long t0 = System.nanoTime();
        String actual = Sha256.hex(body);
        if (sha256 != null && !sha256.equalsIgnoreCase(actual)) {
            throw new ModelFormatException("payload SHA-256 is " + actual + ", X-Payload-Sha256 says " + sha256
                    + ": corrupt or truncated; nothing staged");
        }
        Weights cur = engine.weights();
        Map<String, Tensor> t = tensors(body, baseVersion, cur);
        Weights next = cur.withUpdates(t, cur.version() + 1); // names, shapes and finiteness checked here
        long now = System.nanoTime();
        staged.set(new Staged(id, next, t.size(), body.length, actual, now));
        events.staged(id, t0, now, body.length);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", true);
        m.put("stage_id", id);
        m.put("base_version", cur.version());
        m.put("num_tensors", t.size());
        m.put("bytes", body.length);
        m.put("sha256", actual);
        return m;
    }

    /**
     * Phase 2: installs the staged weights (a pointer swap) if they are still based on the serving version; 409
     * otherwise. With {@code drain}, requests in flight finish first (or are aborted at its end), so none spans the
     * swap; the pause then includes the drain.
     */
    public Map<String, Object> commit(String id, Duration drain) {
        Staged s = staged.get();
        if (s == null || !s.id().equals(id))
            throw new VersionConflict("nothing staged under id " + id + (s == null ? "" : " (staged: " + s.id() + ")"));
        return change(WeightEvents.Kind.COMMIT, "stage " + id, gate -> {
            long t0 = System.nanoTime();
            Map<String, Object> m = new LinkedHashMap<>();
            drain(drain, m);
            long v = gate.install(() -> engine.install(s.weights()));
            Duration pause = events.committed(id, t0, v);
            double pauseMs = pause.toNanos() / 1e6;
            staged.compareAndSet(s, null);
            m.put("stage_id", id);
            m.put("version", v);
            m.put("checksum", engine.weights().checksum());
            m.put("pause_ms", pauseMs);
            m.put("staged_ms", (t0 - s.atNs()) / 1e6);
            return m;
        });
    }

    /**
     * Simulated engines only: takes a pushed payload of any content (its bytes crossed the link; with
     * {@code --bytes-scale} it is smaller than the real model by that factor) and moves to the next version, through
     * the same change window as a real update.
     */
    public Map<String, Object> simInstall(byte[] body, String sha256) {
        if (!engine.simulated())
            throw new ModelFormatException(
                    "/admin/sim_weights is for serve --engine sim; push real weights to /admin/update_weights");
        if (sha256 != null && !sha256.equalsIgnoreCase(Sha256.hex(body))) {
            throw new ModelFormatException(
                    "payload SHA-256 does not match X-Payload-Sha256: corrupt or truncated; nothing changed");
        }
        return change(WeightEvents.Kind.SIM, "sim_push", gate -> {
            Weights cur = engine.weights();
            long v = gate.install(() -> engine.install(cur.withUpdates(Map.of(), cur.version() + 1)));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("bytes", body.length);
            m.put("version", v);
            return m;
        });
    }

    /** The longest drain a change may ask for: it must end well inside the change's own deadline. */
    Duration maxDrain() {
        return deadline.dividedBy(2);
    }

    /** Runs while serve already refuses new requests (a change is in progress), so what is in flight only shrinks. */
    private void drain(Duration drain, Map<String, Object> into) {
        if (drain == null) return;
        long t0 = System.nanoTime();
        Drain d = Drain.of(engine, drain);
        events.drained(d, t0);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("quiesce_ms", d.quiesceMs());
        m.put("in_flight", d.inFlight());
        m.put("aborted", d.aborted());
        m.put("tokens_thrown_away", d.tokensThrownAway());
        into.put("drain", m);
    }

    /**
     * Drops the staged weights (all of them when {@code id} is null); idempotent, so an abort can go to every server.
     */
    public Map<String, Object> abort(String id) {
        Staged s = staged.get();
        boolean dropped = s != null && (id == null || s.id().equals(id)) && staged.compareAndSet(s, null);
        if (dropped) events.stageDropped(s.id());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", true);
        m.put("aborted", dropped);
        m.put("version", engine.weights().version());
        return m;
    }

    /** A weight change that timed out. */
    static final class TimedOut extends RuntimeException {
        TimedOut(String message) {
            super(message);
        }
    }

    private interface Change {
        Map<String, Object> apply(Gate gate) throws Exception;
    }

    private Map<String, Object> change(WeightEvents.Kind kind, String source, Change c) {
        long submitted = System.nanoTime();
        Gate gate = new Gate();
        Future<Map<String, Object>> f;
        synchronized (this) {
            f = worker.submit(() -> {
                current.set(gate); // one worker thread: changes start one at a time
                lastError = null;
                long t0 = System.nanoTime();
                try {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("ok", true);
                    r.putAll(c.apply(gate));
                    double sec = (System.nanoTime() - t0) / 1e9;
                    r.put("elapsed_sec", sec);
                    Map<String, Object> ok = new LinkedHashMap<>();
                    ok.put("time", System.currentTimeMillis() / 1000.0);
                    ok.put("elapsed_sec", sec);
                    ok.put("model_path", source);
                    ok.put("version", engine.weights().version());
                    lastOk = ok;
                    events.changed(
                            kind, WeightEvents.Result.OK, t0, engine.weights().version());
                    return r;
                } catch (Exception e) {
                    lastError = e.getMessage();
                    if (!gate.abandoned()) // else it was counted as timed out at its deadline
                    events.changed(
                                kind,
                                WeightEvents.Result.REFUSED,
                                t0,
                                engine.weights().version());
                    throw e;
                } finally {
                    current.compareAndSet(gate, null);
                }
            });
        }
        try {
            return f.get(deadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            if (!gate.close()) return join(f); // installed already: it is finishing, not stuck
            abandon(f, gate);
            events.changed(
                    kind,
                    WeightEvents.Result.TIMED_OUT,
                    submitted,
                    engine.weights().version());
            String msg = "weight change from " + source + " did not finish within " + deadline.toSeconds()
                    + " s; abandoned, version " + engine.weights().version() + " keeps serving";
            lastError = msg;
            throw new TimedOut(msg);
        } catch (ExecutionException | InterruptedException e) {
            throw unwrap(e);
        }
    }

    /** A stuck change keeps its thread (it may sit in a blocking read); later changes get a fresh worker. */
    private synchronized void abandon(Future<?> f, Gate gate) {
        f.cancel(true);
        worker.shutdownNow();
        worker = newWorker();
        current.compareAndSet(gate, null);
    }

    private static Map<String, Object> join(Future<Map<String, Object>> f) {
        try {
            return f.get();
        } catch (ExecutionException | InterruptedException e) {
            throw unwrap(e);
        }
    }

    /** The change's own failure (a refusal keeps its type and message), or an interruption. */
    private static RuntimeException unwrap(Exception e) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return new IllegalStateException("interrupted");
        }
        return e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
    }

    @Override
    public synchronized void close() {
        worker.shutdownNow();
    }
}
