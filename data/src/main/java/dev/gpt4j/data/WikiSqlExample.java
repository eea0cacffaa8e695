package dev.gpt4j.data;

/** One WikiSQL question: split, 0-based index (the order of predictions), file line, table, question, gold. */
public record WikiSqlExample(String split, int index, int line, String tableId, String question, LogicalForm sql) {
    @Override
    public String toString() {
        return split + "#" + index + " [" + tableId + "] " + question + " -> " + sql;
    }
}
