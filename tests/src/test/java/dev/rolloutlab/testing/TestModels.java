package dev.rolloutlab.testing;

import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.ModelShape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Random checkpoints made once per test JVM under target/models, shared by every test that needs one. */
public final class TestModels {
    private static final Path ROOT = Path.of("target", "models").toAbsolutePath();

    private TestModels() {}

    public static Path tiny() {
        return model("tiny", ModelConfig.Architecture.LLAMA, 0, DType.F32);
    }

    public static Path tinyQwen2() {
        return model("tiny", ModelConfig.Architecture.QWEN2, 0, DType.F32);
    }

    public static Path small() {
        return model("small", ModelConfig.Architecture.LLAMA, 0, DType.F32);
    }

    public static synchronized Path model(String shape, ModelConfig.Architecture arch, long seed, DType dtype) {
        Path dir = ROOT.resolve(
                shape + "-" + arch.modelType + "-s" + seed + "-" + dtype.name().toLowerCase());
        if (!Files.exists(dir.resolve("model.safetensors"))) {
            try {
                Checkpoint.init(ModelShape.parse(shape, arch), dir, seed, dtype);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }

    /** A fresh, empty directory under target/ for one test. */
    public static Path tempDir(String name) {
        try {
            Files.createDirectories(ROOT.getParent().resolve("tmp"));
            return Files.createTempDirectory(ROOT.getParent().resolve("tmp"), name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
