package dev.gpt4j.cli;

import dev.gpt4j.sql.Decoding;
import dev.gpt4j.sql.SqlConstraint;
import dev.gpt4j.sql.SqlRules;
import dev.gpt4j.sql.TextToSql;
import picocli.CommandLine.Option;

/**
 * How {@code ask} and {@code eval} decode: one set of flags with one set of defaults ({@link TextToSql.Options#defaults()}:
 * greedy, schema-constrained, a fallback beam of 4), so that {@code eval} scores the product {@code ask} gives. The
 * rules between them are checked by {@link SqlRules} and {@link Decoding}, not here.
 */
final class SqlDecodingOptions {
    @Option(names = "--constrained", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Schema-constrained decoding: only names of the schema, only SQL that parses. On by default; --no-constrained turns it off.")
    boolean constrained;

    @Option(names = "--values-from-question", description = "String values in the SQL must occur in the question, as WikiSQL's always do "
            + "(needs constrained decoding).")
    boolean valuesFromQuestion;

    @Option(names = "--link-tables", description = "After FROM, prefer (logit + " + SqlConstraint.TABLE_BONUS + ") the tables the question names, "
            + "singular or plural, unless the SELECT list announces a join (needs constrained decoding).")
    boolean linkTables;

    @Option(names = "--one-condition-per-column", description = "A WHERE clause tests each column at most once (WikiSQL's grammar; wrong for "
            + "ranges such as year > 2000 AND year < 2010; needs constrained decoding).")
    boolean oneConditionPerColumn;

    @Option(names = "--fallback-beam", defaultValue = "4", paramLabel = "N", description = "With constrained decoding: when the greedy answer "
            + "never becomes a complete query (the constraint leaves no token, or the tokens run out), decode again with a beam search of width N and "
            + "take its best complete query (0 = off; ignored with --no-constrained). Default: ${DEFAULT-VALUE}.")
    int fallbackBeam;

    @Option(names = "--beam", defaultValue = "1", paramLabel = "N", description = "Beam search of width N, one question at a time (1 = greedy, "
            + "batched): the beam's best answer, or, execution-guided (ask --execute, eval --execution-guided), the greedy answer if it finds a "
            + "value on the database, else the first of the beam's N candidates that does. Default: ${DEFAULT-VALUE}.")
    int beam;

    /** The options these flags ask for, with {@code batchSize} questions decoded together; a bad combination is a one-line error. */
    TextToSql.Options options(int batchSize) {
        try {
            Decoding d = Decoding.DEFAULT.withBatchSize(batchSize).withBeam(beam).withFallbackBeam(fallbackBeam);
            return new TextToSql.Options(d, new SqlRules(constrained, valuesFromQuestion, linkTables, oneConditionPerColumn));
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
    }
}
