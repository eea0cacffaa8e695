package dev.gpt4j.data;

import java.util.List;
import java.util.Objects;

/** A table: name, columns in their declared order, and the primary-key column names (possibly several). */
public record Table(String name, List<Column> columns, List<String> primaryKey) {
    public Table {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("a table name is empty");
        }
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
    }

    public Table(String name, List<Column> columns) {
        this(name, columns, List.of());
    }

    /** The column of that name, compared case-insensitively (SQL's rule), or null. */
    public Column column(String columnName) {
        for (Column c : columns) {
            if (c.name().equalsIgnoreCase(columnName)) {
                return c;
            }
        }
        return null;
    }

    /** The index of the column of that name (case-insensitive), or -1. */
    public int columnIndex(String columnName) {
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).name().equalsIgnoreCase(columnName)) {
                return i;
            }
        }
        return -1;
    }

    boolean isPrimaryKey(String columnName) {
        for (String k : primaryKey) {
            if (k.equalsIgnoreCase(columnName)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return name + columns;
    }
}
