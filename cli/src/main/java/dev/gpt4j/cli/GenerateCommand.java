package dev.gpt4j.cli;

import dev.gpt4j.inference.Generation;
import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.inference.Generator;
import dev.gpt4j.sql.TextToSql;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Continues a prompt with a model (KV-cached; Raschka ch. 5's decoding).",
                "Example: gpt4j generate --model runs/pretrain/model --prompt 'SELECT' --temperature 0.8 --top-k 40 --seed 1"})
final class GenerateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions model;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The prompt (special tokens such as <|sql|> are read as such).")
    String prompt;

    @Option(names = "--max-tokens", defaultValue = "64", paramLabel = "N", description = "New tokens at most. Default: ${DEFAULT-VALUE}.")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0", paramLabel = "T", description = "0 = greedy. Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", paramLabel = "K", description = "Keep the K most likely tokens (0 = all). Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", paramLabel = "P", description = "Nucleus sampling mass (1 = off). Default: ${DEFAULT-VALUE}.")
    double topP;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Random seed. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop at this text (repeatable).")
    List<String> stops = List.of();

    @Option(names = "--stats", description = "Also print tokens and tokens/s on standard error.")
    boolean stats;

    @Override
    public Integer call() {
        if (prompt.isEmpty()) throw new CliException("--prompt is empty");
        GenerationOptions opts;
        try {
            opts = new GenerationOptions(maxTokens, temperature, topK, topP, seed, stops);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        try (TextToSql t = model.load()) {
            Generation g = new Generator(t.model(), t.tokenizer()).generate(prompt, opts);
            PrintWriter out = spec.commandLine().getOut();
            out.println(g.text());
            out.flush();
            if (stats) {
                spec.commandLine().getErr().printf("%d prompt tokens, %d new tokens, %s, %.1f tokens/s%n", g.promptTokens(), g.tokens().length,
                        g.stopReason(), g.tokensPerSecond());
            }
        }
        return 0;
    }
}
