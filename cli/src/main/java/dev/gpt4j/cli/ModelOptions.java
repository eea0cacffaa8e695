package dev.gpt4j.cli;

import dev.gpt4j.sql.TextToSql;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code --model DIR}, defaulting to the shipped model under the project root, and {@code --adapter DIR}. */
final class ModelOptions {
    static final String SHIPPED = "models/gpt4j-sql";

    @Option(names = "--model", paramLabel = "DIR",
            description = "Model folder (config.json, model.safetensors, vocab.json, merges.txt). Default: " + SHIPPED + " in the project.")
    Path model;

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
        if (!Files.isDirectory(d)) throw new CliException("no model folder at " + d + " (give one with --model DIR)");
        if (adapter != null && !Files.isDirectory(adapter)) throw new CliException("no adapter folder at " + adapter);
        try {
            return TextToSql.load(d, adapter);
        } catch (RuntimeException e) {
            throw new CliException(e.getMessage(), e);
        }
    }
}
