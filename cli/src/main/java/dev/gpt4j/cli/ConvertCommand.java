package dev.gpt4j.cli;

import dev.gpt4j.core.GgufModelFiles;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.ModelFiles;
import dev.gpt4j.core.gguf.GgmlType;
import dev.gpt4j.core.quant.QuantType;
import dev.gpt4j.tokenizer.BpeTokenizer;
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
 *
 * <p>With {@code --format gguf} it writes one GGUF file for llama.cpp instead ({@link GgufModelFiles}: the weights in
 * F32, F16, Q8_0 or Q4_0, the gpt2 hyper-parameters and the tokenizer), atomically. {@code --model} may also be a
 * GGUF file (gpt4j's or llama.cpp's), whose tokenizer is then written as {@code vocab.json} and {@code merges.txt}.
 *
 * <p>Given several {@code --model} folders, it writes their average: every weight is the mean of that weight
 * across the models (a "uniform model soup", or checkpoint averaging along one run). The models must have the
 * same configuration and the same tokenizer files; the first one's are written.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Copies a model folder (or a training checkpoint) as a plain model folder with F32, F16, Q8_0, Q4_0 or NF4 weights,",
                "or (--format gguf) as one GGUF file that llama.cpp loads (architecture gpt2, the tokenizer inside).",
                "F16 halves the size and loads back to float32; Q8_0, Q4_0 and NF4 stay packed in memory (and quarter or eighth it).",
                "With several --model folders (same configuration and tokenizer), writes the mean of their weights.",
                "Example: gpt4j convert --model runs/sql/best --dtype f16 --out models/gpt4j-sql",
                "         gpt4j convert --model models/gpt4j-sql --format gguf --dtype q8_0 --out gpt4j-sql-q8_0.gguf",
                "         gpt4j convert --model runs/sql/checkpoints/step-002800 --model runs/sql/checkpoints/step-003000 --out runs/sql/avg"})
final class ConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, arity = "1", paramLabel = "DIR",
            description = "The model folder to read (or a GGUF file); repeat it to average several folders.")
    List<Path> models;

    @Option(names = "--out", required = true, paramLabel = "DIR|FILE", description = "The folder (or, with --format gguf, the file) to write; must not exist yet.")
    Path out;

    @Option(names = "--format", defaultValue = "hf", paramLabel = "FORMAT",
            description = {"hf: a Hugging Face GPT-2 model folder (config.json, model.safetensors, vocab.json, merges.txt); "
                    + "gguf: one GGUF file for llama.cpp (f32, f16, q8_0 or q4_0 linear weights; LayerNorms, biases and positions f32; "
                    + "the token embedding f32, f16, or q8_0 in both quantized files). Default: ${DEFAULT-VALUE}."})
    String format;

    @Option(names = "--dtype", defaultValue = "f16", paramLabel = "TYPE",
            description = {"Weight type to write: f32, f16, or a packed format for the linear layers (q8_0, q4_0: llama.cpp's blocks; nf4: "
                    + "bitsandbytes' 4-bit normal float, absmax double-quantized; not in GGUF), their embeddings and LayerNorms in f32. Default: ${DEFAULT-VALUE}."})
    String dtype;

    static final List<String> TOKENIZER_FILES = List.of("vocab.json", "merges.txt");

    @Override
    public Integer call() {
        boolean gguf = switch (format.toLowerCase(Locale.ROOT)) {
            case "hf" -> false;
            case "gguf" -> true;
            default -> throw new CliException("--format must be hf or gguf, not " + format);
        };
        String dt = dtype.toUpperCase(Locale.ROOT);
        QuantType packed = null;
        if (!dt.equals("F16") && !dt.equals("F32")) {
            try {
                packed = QuantType.parse(dtype);
            } catch (IllegalArgumentException e) {
                throw new CliException("--dtype must be f32, f16, q8_0, q4_0 or nf4, not " + dtype);
            }
            dt = "F32";
        }
        if (gguf && packed == QuantType.NF4) throw new CliException("--dtype nf4 has no GGUF type: choose f32, f16, q8_0 or q4_0 with --format gguf");
        if (Files.exists(out)) throw new CliException(out + " already exists (convert writes a new " + (gguf ? "file)" : "folder)"));
        boolean fromGguf = GgufModelFiles.isGguf(models.get(0));
        if (fromGguf && models.size() > 1) throw new CliException("only model folders can be averaged, not GGUF files");
        for (Path model : fromGguf ? List.<Path>of() : models) {
            for (String f : TOKENIZER_FILES) {
                if (!Files.isRegularFile(model.resolve(f))) throw new CliException("no " + f + " in " + model + " (a model folder holds its tokenizer)");
                if (!sameBytes(models.get(0).resolve(f), model.resolve(f)))
                    throw new CliException(model.resolve(f) + " differs from " + models.get(0).resolve(f) + ": only models with one tokenizer can be averaged");
            }
        }
        Path model = models.get(0);
        Path parent = out.toAbsolutePath().getParent();
        Path tmp = parent.resolve("." + out.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try (GptModel m = load(model)) {
            if (models.size() > 1) average(m);
            BpeTokenizer tok = fromGguf ? GgufModelFiles.loadTokenizer(model) : BpeTokenizer.load(model);
            Files.createDirectories(parent);
            if (gguf) {
                GgmlType type = GgmlType.valueOf(dtype.toUpperCase(Locale.ROOT));
                String name = model.toAbsolutePath().normalize().getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
                GgufModelFiles.save(m, tok, out, type, name);
            } else {
                if (packed != null) m.storeWeightsAs(packed, packed == QuantType.NF4);
                ModelFiles.save(m, tmp, dt, Map.of());
                if (fromGguf) tok.save(tmp);
                else for (String f : TOKENIZER_FILES) Files.copy(model.resolve(f), tmp.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new CliException("cannot write " + out + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            deleteQuietly(tmp);
            throw new CliException(e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        long bytes = gguf ? out.toFile().length() : size(out);
        String what = models.size() > 1 ? "the average of " + models.size() + " models, " : "";
        String weights = gguf ? dtype.toLowerCase(Locale.ROOT) + " GGUF" : packed != null ? packed + " linear" : dt;
        spec.commandLine().getOut().printf("wrote %s (%s%s weights, %.1f MB)%n", out, what, weights, bytes / 1e6);
        return 0;
    }

    /** Adds the other models' weights to {@code sum}'s (the first model), then divides by their number. */
    private void average(GptModel sum) {
        if (!sum.packedWeights().isEmpty()) throw new CliException(models.get(0) + " holds packed weights: only float models can be averaged");
        for (Path other : models.subList(1, models.size())) {
            try (GptModel m = load(other)) {
                if (!m.packedWeights().isEmpty()) throw new CliException(other + " holds packed weights: only float models can be averaged");
                if (!m.config().equals(sum.config()))
                    throw new CliException(other + " has another configuration (" + m.config() + ") than " + models.get(0) + " (" + sum.config() + ")");
                sum.params().values().addi(m.params().values());
            }
        }
        sum.params().values().divi(models.size());
    }

    private static boolean sameBytes(Path a, Path b) {
        try {
            return Files.mismatch(a, b) == -1;
        } catch (IOException e) {
            throw new CliException("cannot read " + b + ": " + e.getMessage(), e);
        }
    }

    private static GptModel load(Path dir) {
        try {
            return GptModel.loadFrozen(dir, null); // converting trains nothing: no gradient buffer
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
