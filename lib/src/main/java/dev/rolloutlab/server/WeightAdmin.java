package dev.rolloutlab.server;

import dev.rolloutlab.engine.Checkpoint;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.ModelFormatException;
import dev.rolloutlab.engine.Safetensors;
import dev.rolloutlab.engine.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The weight endpoints of one engine: checksum, perturb, reload from a folder, update from pushed safetensors.
 * Changes run one at a time on their own thread; while one runs, {@link #reloading()} is true and the server
 * answers non-admin requests with 503. A rejected change leaves the weights and version as they were.
 */
public final class WeightAdmin implements AutoCloseable {
    private final InProcessEngine engine;
    private final AtomicBoolean reloading = new AtomicBoolean();
    private final ExecutorService worker;
    private volatile Map<String, Object> lastOk;
    private volatile String lastError;

    public WeightAdmin(InProcessEngine engine) {
        this.engine = engine;
        this.worker = Executors.newSingleThreadExecutor(Thread.ofPlatform().name("weights-" + engine.name()).daemon(true).factory());
    }

    public boolean reloading() {
        return reloading.get();
    }

    public Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("reloading", reloading.get());
        m.put("last_ok", lastOk);
        m.put("last_error", lastError);
        m.put("weights_version", engine.weights().version());
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
        return change("in_memory_noise", () -> {
            InProcessEngine.PerturbResult r = engine.perturb(seed, scale, numLeaves);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("num_leaves", r.numLeaves());
            m.put("checksum_before", r.checksumBefore());
            m.put("checksum_after", r.checksumAfter());
            m.put("checksum_delta", r.checksumAfter() - r.checksumBefore());
            m.put("version", r.version());
            return m;
        });
    }

    /** Loads every tensor from a model folder (validated against the running model) and installs them. */
    public Map<String, Object> reload(String modelPath) {
        Path dir = Path.of(modelPath).toAbsolutePath();
        return change(dir.toString(), () -> {
            if (!Files.isDirectory(dir)) throw new ModelFormatException("model_path " + dir + " is not a directory");
            Map<String, Tensor> tensors = Checkpoint.readTensors(dir);
            long v = engine.updateWeights(tensors);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model_path", dir.toString());
            m.put("num_tensors", tensors.size());
            m.put("version", v);
            return m;
        });
    }

    /** Installs tensors pushed as a safetensors body; a partial set replaces only those tensors. */
    public Map<String, Object> update(byte[] body) {
        return change("http_push", () -> {
            Map<String, Tensor> tensors = Safetensors.parse(body, "request body");
            if (tensors.isEmpty()) throw new ModelFormatException("request body holds no tensors");
            long v = engine.updateWeights(tensors);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("num_tensors", tensors.size());
            m.put("version", v);
            m.put("checksum", engine.weights().checksum());
            return m;
        });
    }

    private interface Change {
        Map<String, Object> apply() throws Exception;
    }

    private Map<String, Object> change(String source, Change c) {
        Future<Map<String, Object>> f = worker.submit(() -> {
            reloading.set(true);
            lastError = null;
            long t0 = System.nanoTime();
            try {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("ok", true);
                r.putAll(c.apply());
                double sec = (System.nanoTime() - t0) / 1e9;
                r.put("elapsed_sec", sec);
                Map<String, Object> ok = new LinkedHashMap<>();
                ok.put("time", System.currentTimeMillis() / 1000.0);
                ok.put("elapsed_sec", sec);
                ok.put("model_path", source);
                ok.put("version", engine.weights().version());
                lastOk = ok;
                return r;
            } catch (Exception e) {
                lastError = e.getMessage();
                throw e;
            } finally {
                reloading.set(false);
            }
        });
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
