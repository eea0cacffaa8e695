package dev.gpt4j.cli;

import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "train-tokenizer", mixinStandardHelpOptions = true,
        description = {"Learns a byte-level BPE vocabulary from text files.",
                "Reads UTF-8 text files and writes vocab.json + merges.txt.",
                "Example: gpt4j train-tokenizer --input corpus.txt --vocab-size 8192 --out models/tok"})
final class TrainTokenizerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, arity = "1..*", paramLabel = "FILE", description = "Text files to learn from.")
    List<Path> inputs;

    @Option(names = "--vocab-size", defaultValue = "8192", paramLabel = "N",
            description = "Ids in all: 256 bytes + merges + special tokens. Default: ${DEFAULT-VALUE}.")
    int vocabSize;

    @Option(names = "--special", paramLabel = "TOKEN", split = ",", defaultValue = "<|endoftext|>",
            description = "Special tokens, comma-separated; they get the last ids. Default: ${DEFAULT-VALUE}.")
    List<String> specials;

    @Option(names = "--min-frequency", defaultValue = "2", paramLabel = "N",
            description = "Never merge a pair seen fewer times than this. Default: ${DEFAULT-VALUE}.")
    int minFrequency;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write vocab.json and merges.txt into.")
    Path out;

    @Override
    public Integer call() {
        for (Path p : inputs) if (!Files.isRegularFile(p)) throw new CliException("--input " + p + ": no such file");
        if (Files.exists(out) && !Files.isDirectory(out)) throw new CliException("--out " + out + ": exists and is not a folder");
        BpeTrainer trainer;
        try {
            trainer = new BpeTrainer(vocabSize, specials, minFrequency);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        long t0 = System.nanoTime();
        BpeTokenizer tok;
        try {
            tok = trainer.trainFiles(inputs);
            tok.save(out);
        } catch (UncheckedIOException e) {
            throw new CliException(e.getMessage(), e);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        PrintWriter w = spec.commandLine().getOut();
        w.printf("trained %d ids (%d merges, special %s) in %.1f s; wrote %s%n", tok.vocabSize(), tok.mergeCount(),
                tok.specialTokens(), seconds, out.resolve("vocab.json"));
        if (tok.vocabSize() < vocabSize) {
            w.printf("note: the text has no more pairs seen %d times or more, so the vocabulary is smaller than %d%n",
                    minFrequency, vocabSize);
        }
        w.flush();
        return 0;
    }
}
