package dev.gpt4j.data;

/**
 * The verdict of {@link SqlGuard}: whether the SQL may run, and if not, why. {@code sql} is the one statement
 * that may run (without a trailing {@code ;}), or null when refused.
 */
public record SqlCheck(boolean allowed, String reason, String sql) {
    static SqlCheck allow(String sql) {
        return new SqlCheck(true, "", sql);
    }

    static SqlCheck refuse(String reason) {
        return new SqlCheck(false, reason, null);
    }

    @Override
    public String toString() {
        return allowed ? "allowed: " + sql : "refused: " + reason;
    }
}
