package dev.gpt4j.cli;

import dev.gpt4j.sql.TextToSql;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code --model DIR}, defaulting to the shipped model under the project root, and {@code --adapter DIR}. */
final class ModelOptions {
    static final String SHIPPED = "models/gpt4j-sql";

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model folder (config.json, model.safetensors, vocab.json, merges.txt), or a gpt2 GGUF file (gpt4j convert --format gguf, "
                    + "or llama.cpp's). Default: " + SHIPPED + " in the project.")
    Path model;

    @Option(names = "--weights", paramLabel = "TYPE", description = "Store the linear layers' weights in memory as f16, q8_0, q4_0 or nf4 "
            + "(quantized when the model loads; a file already packed stays as it is). Default: as the file holds them.")
    String weights;

    @Option(names = "--adapter", paramLabel = "DIR",
            description = "A LoRA adapter for the model (a PEFT folder: adapter_config.json, adapter_model.safetensors), applied on top.")
    Path adapter;

    Path dir() {
        if (model != null) return model;
        String home = System.getProperty("gpt4j.home");
        return (home != null ? Path.of(home) : Path.of("")).resolve(SHIPPED);
    }

    TextToSql load() {
        Path d = dir();
        if (!Files.isDirectory(d) && !Files.isRegularFile(d)) throw new CliException("no model folder or file at " + d + " (give one with --model DIR)");
        if (adapter != null && !Files.isDirectory(adapter)) throw new CliException("no adapter folder at " + adapter);
        dev.gpt4j.core.quant.QuantType type = null;
        if (weights != null && !weights.equalsIgnoreCase("f32")) {
            try {
                type = dev.gpt4j.core.quant.QuantType.parse(weights);
            } catch (IllegalArgumentException e) {
                throw new CliException("--weights: " + e.getMessage());
            }
        }
        try {
            TextToSql t = TextToSql.load(d, adapter);
            if (type != null) t.model().storeWeightsAs(type, type == dev.gpt4j.core.quant.QuantType.NF4);
            return t;
        } catch (RuntimeException e) {
            throw new CliException(e.getMessage(), e);
        }
    }
}
