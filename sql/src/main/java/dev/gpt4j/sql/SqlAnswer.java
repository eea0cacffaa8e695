package dev.gpt4j.sql;

import dev.gpt4j.inference.Generation;
import dev.gpt4j.data.SqlCheck;

/**
 * What {@link TextToSql} answered: the SQL, whether it parses, the safety check (only one read-only query
 * passes), the prompt and answer sizes in tokens, the time taken, why generation stopped, and whether the SQL
 * was cut back ({@code cut}): under constrained decoding, a generation that ran out of tokens without ending
 * is cut to its longest prefix that was a complete query (where the end token was allowed), if it has one.
 * {@code prefillNanos} and {@code decodeNanos} split the time between reading the prompt and writing the SQL, as a
 * service reports them: the prompt's own prefill, and the decoding of the batch it was part of (so a batch's answers
 * share one decode time); a fallback beam search adds its own.
 */
public record SqlAnswer(String sql, boolean parses, SqlCheck check, int promptTokens, int sqlTokens, long nanos,
                        Generation.StopReason stopReason, boolean cut, long prefillNanos, long decodeNanos) {

    /** An answer whose time is not split: all of it counted as decoding. */
    public SqlAnswer(String sql, boolean parses, SqlCheck check, int promptTokens, int sqlTokens, long nanos,
                     Generation.StopReason stopReason, boolean cut) {
        this(sql, parses, check, promptTokens, sqlTokens, nanos, stopReason, cut, 0, nanos);
    }

    /** Whether the SQL passed the safety check and may be run (read-only) on a database. */
    public boolean safe() {
        return check.allowed();
    }

    /**
     * Whether the model ended the query (its end token came; under constrained decoding only a complete query may
     * end) or it was cut back to a complete prefix. False when the tokens ran out, or the constraint allowed none,
     * before any complete query.
     */
    public boolean complete() {
        return stopReason == Generation.StopReason.STOP_TOKEN || cut;
    }

    public double seconds() {
        return nanos / 1e9;
    }

    @Override
    public String toString() {
        return sql + "  -- " + (parses ? "parses" : "does not parse") + ", " + (safe() ? "safe" : "refused: " + check.reason())
                + String.format(", %d+%d tokens, %.2f s", promptTokens, sqlTokens, seconds()) + (cut ? ", cut back to a complete query" : "");
    }
}
