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

    /**
     * The table as an in-memory SQLite database, read-only once built: its rows in one table named
     * {@link #sqlName()}, {@code real} columns as REAL and the others as TEXT that compares ignoring case (as
     * WikiSQL's comparison of values does). For running predicted queries, e.g. to check that they return rows.
     *
     * @throws IllegalStateException if the file had no rows or types to build it from
     */
    public SqliteDatabase database(java.time.Duration timeout, int maxRows) {
        if (types.isEmpty()) throw new IllegalStateException("table " + id + " has no column types (a header-only file)");
        StringBuilder ddl = new StringBuilder("CREATE TABLE ").append(quote(sqlName())).append(" (");
        StringBuilder insert = new StringBuilder("INSERT INTO ").append(quote(sqlName())).append(" VALUES (");
        for (int i = 0; i < header.size(); i++) {
            if (i > 0) {
                ddl.append(", ");
                insert.append(", ");
            }
            ddl.append(quote(header.get(i))).append("real".equals(types.get(i)) ? " REAL" : " TEXT COLLATE NOCASE");
            insert.append('?');
        }
        String create = ddl.append(')').toString(), add = insert.append(')').toString();
        return SqliteDatabase.inMemory("wikisql table " + id, timeout, maxRows, c -> {
            try (java.sql.Statement st = c.createStatement()) {
                st.execute(create);
            }
            try (java.sql.PreparedStatement ps = c.prepareStatement(add)) {
                for (List<Object> row : rows) {
                    for (int i = 0; i < header.size(); i++) ps.setObject(i + 1, i < row.size() ? row.get(i) : null);
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        });
    }

    private static String quote(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
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
