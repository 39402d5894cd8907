package dev.rolloutlab.engine.model;

import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.ModelConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;

/**
 * Where random checkpoints made on demand live: {@code $ROLLOUT_LAB_HOME/models/<shape>-llama-s0-bf16}
 * ({@code ~/.rollout-lab} by default), so every alias that takes {@code --shape} reuses one folder per shape. They are
 * bfloat16, the precision RL rollouts are served in, and the engine holds them so.
 */
public final class DefaultModels {
    private DefaultModels() {}

    public static Path home() {
        String env = System.getenv("ROLLOUT_LAB_HOME");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".rollout-lab");
    }

    /** The folder for a shape, created (with progress on stderr) the first time it is asked for. */
    public static synchronized Path ensure(String shape) {
        ModelConfig config = ModelShape.parse(shape, ModelConfig.Architecture.LLAMA);
        Path dir = home().resolve("models").resolve(shape.toLowerCase() + "-llama-s0-bf16");
        if (complete(dir)) return dir;
        System.err.println("creating the default '" + shape + "' model in " + dir + " (first use only)");
        Path tmp = dir.resolveSibling(
                dir.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            Checkpoint.init(config, tmp, 0, DType.BF16);
            Files.createDirectories(dir.getParent());
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException raced) {
                // another process made it first (Linux reports a rename onto its folder as "Directory not empty",
                // not always as DirectoryNotEmptyException); theirs is identical (same shape, same seed)
                if (!complete(dir)) throw raced;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteQuietly(tmp); // a failed or raced creation leaves no half-written folder behind
        }
        return dir;
    }

    private static boolean complete(Path dir) {
        return Files.exists(dir.resolve("model.safetensors")) && Files.exists(dir.resolve("tokenizer.json"));
    }

    private static void deleteQuietly(Path tree) {
        if (!Files.exists(tree)) return;
        try (var walk = Files.walk(tree)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // best effort: a leftover .tmp folder is named after its pid and harmless
        }
    }

    /** {@code --model} if given, else the default folder for {@code --shape}. */
    public static Path resolve(Path model, String shape) {
        return model != null ? model : ensure(shape);
    }
}
