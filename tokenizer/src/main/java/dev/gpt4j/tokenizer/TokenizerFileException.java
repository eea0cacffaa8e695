package dev.gpt4j.tokenizer;

import java.nio.file.Path;

/** A vocabulary or merges file that cannot be used; the message names the file, the line and the fault. */
public class TokenizerFileException extends RuntimeException {
    private final Path file;
    private final int line;

    public TokenizerFileException(Path file, int line, String problem) {
        this(file, line, problem, null);
    }

    public TokenizerFileException(Path file, int line, String problem, Throwable cause) {
        super(file + (line > 0 ? ":" + line : "") + ": " + problem, cause);
        this.file = file;
        this.line = line;
    }

    /** The file at fault. */
    public Path file() {
        return file;
    }

    /** The 1-based line at fault, or 0 if the fault is not on one line. */
    public int line() {
        return line;
    }
}
