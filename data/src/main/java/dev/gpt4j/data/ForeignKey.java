package dev.gpt4j.data;

/** {@code table.column} references {@code refTable.refColumn}. */
public record ForeignKey(String table, String column, String refTable, String refColumn) {
    @Override
    public String toString() {
        return table + "." + column + " -> " + refTable + "." + refColumn;
    }
}
