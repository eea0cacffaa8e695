package dev.gpt4j.cli;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.LoraAdapter;
import dev.gpt4j.core.ModelFiles;
import dev.gpt4j.tokenizer.BpeTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code gpt4j merge}: a model and a LoRA adapter as one plain model folder, written atomically. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = {"Merges a LoRA adapter into its model's weights (W += scaling * (B A)^T) and writes a plain model folder:",
                "it then answers as model and adapter together, at the cost of the model alone.",
                "Example: gpt4j merge --model models/gpt4j-sql --adapter runs/lora/adapter --out runs/merged"})
final class MergeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "The model folder the adapter was trained on.")
    Path model;

    @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "The adapter (a PEFT folder).")
    Path adapter;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The folder to write; must not exist yet.")
    Path out;

    @Option(names = "--dtype", defaultValue = "f16", paramLabel = "f16|f32", description = "Weight type to write. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @Override
    public Integer call() {
        String dt = dtype.toUpperCase(Locale.ROOT);
        if (!dt.equals("F16") && !dt.equals("F32")) throw new CliException("--dtype must be f16 or f32, not " + dtype);
        if (Files.exists(out)) throw new CliException(out + " already exists (merge writes a new folder)");
        if (!Files.isDirectory(model)) throw new CliException("no model folder at " + model);
        if (!Files.isDirectory(adapter)) throw new CliException("no adapter folder at " + adapter);
        try (GptModel m = GptModel.loadFrozen(model, null)) { // merging trains nothing: no gradient buffer
            LoraAdapter a = LoraAdapter.load(adapter, m.config());
            m.addAdapter("merge", a);
            m.mergeAdapter("merge");
            BpeTokenizer tok = BpeTokenizer.load(model);
            Path parent = out.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = Files.createTempDirectory(parent, ".tmp-" + out.getFileName());
            try {
                ModelFiles.save(m, tmp, dt, Map.of());
                tok.save(tmp);
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                if (Files.exists(tmp)) dev.gpt4j.training.Checkpoints.deleteTree(tmp);
            }
            spec.commandLine().getOut().println("merged " + a + " into " + model + ": " + out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new CliException(e.getMessage(), e);
        }
        return 0;
    }
}
