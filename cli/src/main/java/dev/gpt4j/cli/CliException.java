package dev.gpt4j.cli;

/** An error a user can act on: its message is printed as one line, without a stack trace. */
public class CliException extends RuntimeException {
    private final int exitCode;

    public CliException(String message) {
        this(message, null, 1);
    }

    public CliException(String message, Throwable cause) {
        this(message, cause, 1);
    }

    public CliException(String message, Throwable cause, int exitCode) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
