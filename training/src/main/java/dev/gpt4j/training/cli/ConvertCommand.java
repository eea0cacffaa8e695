package dev.gpt4j.training.cli;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.ModelFiles;
import dev.gpt4j.training.Checkpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * Copies a model folder with its weights in F16 or F32: the four files a model needs (config, weights,
 * vocabulary, merges), nothing of a checkpoint's training state. Written into a temporary folder beside the
 * target, then renamed, so a half-written model never appears under the target's name.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Copies a model folder (or a training checkpoint) as a plain model folder with F16 or F32 weights.",
                "F16 halves the size; loading converts back to float32.",
                "Example: gpt4j convert --model runs/sql/best --dtype f16 --out models/gpt4j-sql"})
final class ConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "The model folder to read.")
    Path model;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The folder to write; must not exist yet.")
    Path out;

    @Option(names = "--dtype", defaultValue = "f16", paramLabel = "f16|f32", description = "Weight type to write. Default: ${DEFAULT-VALUE}.")
    String dtype;

    static final List<String> TOKENIZER_FILES = List.of("vocab.json", "merges.txt");

    @Override
    public Integer call() {
        String dt = dtype.toUpperCase(Locale.ROOT);
        if (!dt.equals("F16") && !dt.equals("F32")) throw new CliException("--dtype must be f16 or f32, not " + dtype);
        if (Files.exists(out)) throw new CliException(out + " already exists (convert writes a new folder)");
        for (String f : TOKENIZER_FILES) {
            if (!Files.isRegularFile(model.resolve(f))) throw new CliException("no " + f + " in " + model + " (a model folder holds its tokenizer)");
        }
        Path parent = out.toAbsolutePath().getParent();
        Path tmp = parent.resolve("." + out.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try (GptModel m = load(model)) {
            Files.createDirectories(parent);
            ModelFiles.save(m, tmp, dt, Map.of());
            for (String f : TOKENIZER_FILES) Files.copy(model.resolve(f), tmp.resolve(f), StandardCopyOption.REPLACE_EXISTING);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CliException("cannot write " + out + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        long bytes = size(out);
        spec.commandLine().getOut().printf("wrote %s (%s weights, %.1f MB)%n", out, dt, bytes / 1e6);
        return 0;
    }

    private static GptModel load(Path dir) {
        try {
            return GptModel.load(dir);
        } catch (RuntimeException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    private static long size(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            Checkpoints.deleteTree(dir);
        } catch (UncheckedIOException ignored) {
            // best effort: the folder has a temporary name
        }
    }
}
