package dev.gpt4j.data;

/**
 * A labelled text-to-SQL pair before tokenization: where it comes from ({@code wikisql} or {@code spider}),
 * its group (the table or database: splits keep a group on one side), schema, question and gold SQL.
 */
public record TextToSqlExample(String source, String group, Schema schema, String question, String sql) {
    @Override
    public String toString() {
        return source + "[" + group + "] " + question + " -> " + sql;
    }
}
