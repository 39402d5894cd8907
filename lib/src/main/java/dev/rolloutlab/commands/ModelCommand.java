package dev.rolloutlab.commands;

import dev.rolloutlab.engine.checkpoint.DType;
import dev.rolloutlab.engine.checkpoint.Gguf;
import dev.rolloutlab.engine.checkpoint.ModelConfig;
import dev.rolloutlab.engine.checkpoint.Safetensors;
import dev.rolloutlab.engine.model.Checkpoint;
import dev.rolloutlab.engine.model.ModelShape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code model init|inspect|export-gguf}: create a random-weight checkpoint, describe one, or write it as GGUF. */
@Command(
        name = "model",
        mixinStandardHelpOptions = true,
        description = "Create a random-weight Hugging Face checkpoint, inspect one, or write it as GGUF for llama.cpp.",
        subcommands = {ModelCommand.Init.class, ModelCommand.Inspect.class, ModelCommand.ExportGguf.class})
public final class ModelCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(
                spec.commandLine(), "name a subcommand: init, inspect or export-gguf");
    }

    @Command(
            name = "init",
            mixinStandardHelpOptions = true,
            description = "Write config.json, model.safetensors and tokenizer.json with random weights.")
    static final class Init implements Callable<Integer> {
        @Option(
                names = "--shape",
                defaultValue = "tiny",
                description = "tiny, small (stories15M-like) or HxLxV. Default: ${DEFAULT-VALUE}")
        String shape;

        @Option(names = "--out", required = true, description = "Folder to write (created if missing).")
        Path out;

        @Option(
                names = "--seed",
                defaultValue = "0",
                description = "Random seed; the same seed writes the same weights. Default: ${DEFAULT-VALUE}")
        long seed;

        @Option(
                names = "--arch",
                defaultValue = "llama",
                description = "llama or qwen2 (adds q/k/v biases). Default: ${DEFAULT-VALUE}")
        String arch;

        @Option(
                names = "--dtype",
                defaultValue = "F32",
                description =
                        "F32, BF16 or F16, written to config.json's torch_dtype: the engine holds BF16 as bfloat16 "
                                + "and F16 as float32. Default: ${DEFAULT-VALUE}")
        DType dtype;

        @Option(names = "--force", description = "Overwrite a folder that already holds a model.")
        boolean force;

        @Override
        public Integer call() throws Exception {
            ModelConfig.Architecture a = switch (arch.toLowerCase()) {
                case "llama" -> ModelConfig.Architecture.LLAMA;
                case "qwen2" -> ModelConfig.Architecture.QWEN2;
                default -> throw new Cli.UserError("--arch " + arch + ": expected llama or qwen2");
            };
            ModelConfig config = ModelShape.parse(shape, a);
            if (Files.exists(out.resolve("config.json")) && !force) {
                throw new Cli.UserError(out + " already holds a model; pass --force to overwrite it");
            }
            long t0 = System.nanoTime();
            Checkpoint.init(config, out, seed, dtype);
            System.err.printf(
                    "wrote %s (%s, shape %s, seed %d, %s) in %.1f s%n",
                    out, a.hfName, shape, seed, dtype, (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }

    @Command(
            name = "inspect",
            mixinStandardHelpOptions = true,
            description = "Print architecture, parameter count, dtype and the weights checksum.")
    static final class Inspect implements Callable<Integer> {
        @Parameters(paramLabel = "DIR", description = "A model folder.")
        Path dir;

        @Override
        public Integer call() {
            Checkpoint c = Checkpoint.load(dir);
            ModelConfig m = c.config();
            System.out.println("architecture: " + m.architecture().hfName);
            System.out.printf(
                    "shape: hidden=%d layers=%d heads=%d kv_heads=%d head_dim=%d intermediate=%d vocab=%d context=%d%n",
                    m.hiddenSize(),
                    m.numLayers(),
                    m.numHeads(),
                    m.numKvHeads(),
                    m.headDim(),
                    m.intermediateSize(),
                    m.vocabSize(),
                    m.maxPositions());
            System.out.println("tied_embeddings: " + m.tieWordEmbeddings());
            System.out.println("parameters: " + c.weights().parameterCount());
            System.out.println("dtype: " + storedDtype(dir));
            System.out.println("tensors: " + c.weights().tensors().size());
            System.out.println("checksum: " + c.weights().checksum());
            return 0;
        }

        private static String storedDtype(Path dir) {
            try (var files = Files.list(dir)) {
                return files.filter(p -> p.toString().endsWith(".safetensors"))
                        .sorted()
                        .flatMap(p -> Safetensors.dtypes(p).stream())
                        .distinct()
                        .map(Enum::name)
                        .collect(Collectors.joining(","));
            } catch (IOException e) {
                return "unknown";
            }
        }
    }

    @Command(
            name = "export-gguf",
            mixinStandardHelpOptions = true,
            description =
                    "Write a model folder as one GGUF file (tokenizer included) that llama.cpp loads, to run both "
                            + "engines on the same weights.")
    static final class ExportGguf implements Callable<Integer> {
        @Parameters(paramLabel = "DIR", description = "A model folder (config.json, *.safetensors, tokenizer.json).")
        Path dir;

        @Option(names = "--out", required = true, description = "The .gguf file to write (replaced atomically).")
        Path out;

        @Option(
                names = "--type",
                defaultValue = "F32",
                description =
                        "Type of the 2-D weights: F32, F16 or BF16 (norms stay float32). Default: ${DEFAULT-VALUE}")
        Gguf.Type type;

        @Override
        public Integer call() throws IOException {
            long t0 = System.nanoTime();
            Checkpoint.exportGguf(dir, type, out);
            System.err.printf(
                    "wrote %s (%s, %.1f MB) in %.1f s%n",
                    out, type, Files.size(out) / 1e6, (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }
}
