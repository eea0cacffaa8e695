package dev.gpt4j.data;

import java.util.Objects;

/**
 * One column of a table: its name as the database spells it and its declared type (lower-case, e.g.
 * {@code text}, {@code number}, {@code int}; empty when unknown).
 */
public record Column(String name, String type) {
    public Column {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("a column name is empty");
        }
        type = type == null ? "" : type.trim().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public String toString() {
        return type.isEmpty() ? name : name + " " + type;
    }
}
