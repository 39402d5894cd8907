package dev.rolloutlab.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rolloutlab.engine.checkpoint.Gguf;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * llama.cpp beside our engine: node-llama-cpp (pinned in {@code tests/llama}, installed by {@code tests/bin/provision})
 * run by {@code tests/llama/llama-side.mjs} on the GGUF file {@code model export-gguf} writes from the same checkpoint.
 */
public final class LlamaCpp {
    /** The folder of the node side, relative to the tests module (the working directory of tests and benchmarks). */
    static final Path HOME = Path.of("llama").toAbsolutePath();

    private LlamaCpp() {}

    /** Writes {@code modelDir} as GGUF to {@code out}, the way {@code model export-gguf} does. */
    public static Path export(Path modelDir, Gguf.Type type, Path out) {
        try {
            Checkpoint.exportGguf(modelDir, type, out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs the node side on {@code request} (see {@code llama-side.mjs} for its fields) and returns its answer; fails
     * with the side's own output when it fails or outlives {@code timeout}.
     */
    public static JsonNode run(Map<String, Object> request, Path workDir, Duration timeout) {
        if (!Files.isDirectory(HOME.resolve("node_modules/node-llama-cpp")))
            throw new IllegalStateException(
                    "node-llama-cpp is not installed in " + HOME + ": run tests/bin/provision (it runs npm ci there)");
        try {
            Path req = workDir.resolve("llama-request.json"), out = workDir.resolve("llama-answer.json");
            Path err = workDir.resolve("llama-side.log");
            Json.writeFile(req, request);
            Process p = new ProcessBuilder(
                            "node", HOME.resolve("llama-side.mjs").toString(), req.toString())
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(
                        "llama.cpp side still running after " + timeout + ":\n" + Files.readString(err));
            }
            if (p.exitValue() != 0)
                throw new IllegalStateException(
                        "llama.cpp side exited " + p.exitValue() + ":\n" + Files.readString(err));
            return Json.parse(Files.readString(out));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
