package dev.gpt4j.core;

import java.nio.file.Path;

/** A model file that cannot be used; the message names the file and what is wrong with it. */
public class ModelFileException extends RuntimeException {
    private final Path file;

    public ModelFileException(Path file, String problem) {
        this(file, problem, null);
    }

    public ModelFileException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
