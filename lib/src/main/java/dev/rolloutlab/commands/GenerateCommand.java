package dev.rolloutlab.commands;

import dev.rolloutlab.engine.Completion;
import dev.rolloutlab.engine.InProcessEngine;
import dev.rolloutlab.engine.Sample;
import dev.rolloutlab.engine.SamplingParams;
import dev.rolloutlab.engine.tokenizer.ChatTemplate;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code generate}: one in-process generation, printed with its token count and weights version. */
@Command(
        name = "generate",
        mixinStandardHelpOptions = true,
        description = "Generate completions for one prompt with the in-process engine (no HTTP).")
public final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelChoice model;

    @Option(names = "--prompt", required = true, description = "Prompt text, sent as is (no chat template).")
    String prompt;

    @Option(names = "--chat", description = "Wrap the prompt as one user message in the chat template.")
    boolean chat;

    @Option(names = "--max-tokens", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0.0", description = "0 is greedy. Default: ${DEFAULT-VALUE}")
    double temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Default: ${DEFAULT-VALUE}")
    double topP;

    @Option(names = "--top-k", defaultValue = "0", description = "0 disables. Default: ${DEFAULT-VALUE}")
    int topK;

    @Option(names = "--seed", description = "Same seed and weights give the same tokens.")
    Long seed;

    @Option(
            names = "--n",
            defaultValue = "1",
            description = "Samples of the prompt, sharing one prefill. Default: ${DEFAULT-VALUE}")
    int n;

    @Option(names = "--ignore-eos", description = "Keep sampling past end-of-sequence tokens.")
    boolean ignoreEos;

    @Override
    public Integer call() {
        try (InProcessEngine engine = InProcessEngine.open(model.resolve("small"))) {
            String text = chat
                    ? new ChatTemplate(engine.tokenizer()).render(List.of(new ChatTemplate.Message("user", prompt)))
                    : prompt;
            SamplingParams p = new SamplingParams(maxTokens, temperature, topP, topK, seed, null, null, 0, ignoreEos);
            long t0 = System.nanoTime();
            Completion c = engine.generate(text, p, n);
            double sec = (System.nanoTime() - t0) / 1e9;
            for (Sample s : c.samples()) {
                if (n > 1) System.out.println("--- sample " + s.index());
                System.out.println(s.text());
                System.out.printf(
                        "[tokens=%d finish=%s weights_version=%d]%n",
                        s.completionTokens(), s.finishReason().openai, s.minVersion());
            }
            System.err.printf(
                    "prompt_tokens=%d completion_tokens=%d seconds=%.3f tok_per_s=%.1f%n",
                    c.promptTokens(), c.completionTokens(), sec, c.completionTokens() / sec);
        }
        return 0;
    }
}
