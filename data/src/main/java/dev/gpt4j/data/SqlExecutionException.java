package dev.gpt4j.data;

/** A query that failed on the database: an SQL error, a time-out, or a refusal by {@link SqlGuard}. */
public final class SqlExecutionException extends RuntimeException {
    /** Why the query did not give rows. */
    public enum Kind { ERROR, TIMEOUT, REFUSED }

    private final Kind kind;

    public SqlExecutionException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
