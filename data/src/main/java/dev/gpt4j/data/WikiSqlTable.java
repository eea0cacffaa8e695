package dev.gpt4j.data;

import java.util.List;

/**
 * A WikiSQL table: id and header, plus the column types ({@code text}/{@code real}) and rows when the file
 * has them (the official release does; header-only files do not: then {@code types} and {@code rows} are
 * empty).
 */
public record WikiSqlTable(String id, List<String> header, List<String> types, List<List<Object>> rows) {
    public WikiSqlTable {
        header = List.copyOf(header);
        types = List.copyOf(types);
        rows = rows == null ? List.of() : List.copyOf(rows);
    }

    /** The SQL table name: the official databases' {@code table_<id>} with dashes as underscores. */
    public String sqlName() {
        return "table_" + id.replace('-', '_');
    }

    /** The type of column {@code i} ({@code text} or {@code real}), or empty when the file had no types. */
    public String type(int i) {
        return types.isEmpty() ? "" : types.get(i);
    }

    /** The table as a one-table schema (names as in the header, types when known). */
    public Schema schema() {
        List<Column> cols = new java.util.ArrayList<>();
        for (int i = 0; i < header.size(); i++) {
            cols.add(new Column(header.get(i), type(i)));
        }
        return new Schema(id, List.of(new Table(sqlName(), cols)), List.of());
    }
}
