package dev.gpt4j.sql;

/**
 * What the SQL must obey while it is decoded. {@code constrained}: schema-constrained decoding ({@link SqlConstraint}:
 * only the schema's names, only SQL that can still parse). The other three narrow or steer it further, so each
 * needs {@code constrained}, and asking for one without it is an error here, the one place that checks it (the
 * message names the rule as the command line spells it, since that is where most such errors start):
 * <ul>
 * <li>{@code valuesFromQuestion}: every string literal occurs in the question (ignoring case; LIKE's % aside), as
 *     WikiSQL's values always do; wrong for values the question only implies.</li>
 * <li>{@code linkTables}: a table the question names (by its name, words split at underscores, singular or plural)
 *     gets {@link SqlConstraint#TABLE_BONUS} added to the logits of the tokens that start it, where the first table
 *     after FROM comes next and the SELECT list announces no join; a preference, any allowed table may still come.</li>
 * <li>{@code oneConditionPerColumn}: a WHERE clause (per SELECT) tests each column at most once, as in WikiSQL's
 *     grammar; wrong for ranges and lists ({@code year > 2000 AND year < 2010}).</li>
 * </ul>
 */
public record SqlRules(boolean constrained, boolean valuesFromQuestion, boolean linkTables, boolean oneConditionPerColumn) {
    /** Free decoding: any text. */
    public static final SqlRules FREE = new SqlRules(false, false, false, false);
    /** Schema-constrained decoding and nothing more ({@code gpt4j ask}'s default). */
    public static final SqlRules CONSTRAINED = new SqlRules(true, false, false, false);

    public SqlRules {
        if (!constrained) {
            String needs = valuesFromQuestion ? "--values-from-question" : linkTables ? "--link-tables"
                    : oneConditionPerColumn ? "--one-condition-per-column" : null;
            if (needs != null) throw new IllegalArgumentException(needs + " needs constrained decoding");
        }
    }

    public SqlRules withValuesFromQuestion(boolean v) {
        return new SqlRules(constrained, v, linkTables, oneConditionPerColumn);
    }

    public SqlRules withLinkTables(boolean l) {
        return new SqlRules(constrained, valuesFromQuestion, l, oneConditionPerColumn);
    }

    public SqlRules withOneConditionPerColumn(boolean o) {
        return new SqlRules(constrained, valuesFromQuestion, linkTables, o);
    }
}
