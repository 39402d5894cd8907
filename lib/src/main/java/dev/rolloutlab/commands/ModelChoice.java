package dev.rolloutlab.commands;

import dev.rolloutlab.engine.model.DefaultModels;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The model an in-process engine loads: a folder, or a built-in shape created on first use. Shared by serve, generate,
 * compare.
 */
final class ModelChoice {
    @Option(
            names = "--model",
            description = "Model folder (Hugging Face layout). Default: the built-in model of --shape.")
    Path model;

    @Option(names = "--shape", description = "Built-in model shape when --model is not given: tiny, small or HxLxV.")
    String shape;

    /** The folder to load, creating the built-in model of {@code --shape} (else {@code defaultShape}) when needed. */
    Path resolve(String defaultShape) {
        return DefaultModels.resolve(model, shape != null ? shape : defaultShape);
    }
}
