package dev.gpt4j.cli;

import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.TokenizerFileException;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loading a tokenizer for a command, with one-line errors. */
final class Tokenizers {
    private Tokenizers() {}

    static BpeTokenizer load(Path dir) {
        if (!Files.isDirectory(dir)) throw new CliException("--vocab " + dir + ": no such folder");
        for (String f : new String[] {"vocab.json", "merges.txt"}) {
            if (!Files.isRegularFile(dir.resolve(f))) throw new CliException("--vocab " + dir + ": no " + f + " in it");
        }
        try {
            return BpeTokenizer.load(dir);
        } catch (TokenizerFileException | UncheckedIOException e) {
            throw new CliException(e.getMessage(), e);
        }
    }
}
