package dev.gpt4j.server;

import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqliteDatabase;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * A database the service answers questions about: its name in the API, its SQLite file (opened read-only for each
 * query), the schema the model reads and the DDL the page shows, and the LoRA adapter (its name in the model) that
 * is active for its questions, if any.
 */
public record ServedDatabase(String name, Path file, Schema schema, String ddl, String adapter) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}");

    public ServedDatabase {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("a database name is 1 to 64 letters, digits, '_', '.' or '-', not '" + name + "'");
        }
        if (schema.tables().isEmpty()) throw new IllegalArgumentException("database " + name + " has no tables");
    }

    /**
     * The database {@code name} in {@code file}, its schema read from {@code ddlFile} (CREATE TABLE statements, shown as
     * written) or, if null, from the database itself.
     *
     * @throws IllegalArgumentException naming the file that is missing or wrong
     */
    public static ServedDatabase of(String name, Path file, Path ddlFile) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("database " + name + ": no SQLite file " + file);
        if (ddlFile != null) {
            if (!Files.isRegularFile(ddlFile)) throw new IllegalArgumentException("database " + name + ": no schema file " + ddlFile);
            try {
                String ddl = Files.readString(ddlFile);
                return new ServedDatabase(name, file, DdlSchemas.parse(ddl, ddlFile.toString(), name), ddl.strip(), null);
            } catch (IOException e) {
                throw new IllegalArgumentException("database " + name + ": cannot read " + ddlFile + ": " + e.getMessage(), e);
            }
        }
        try (SqliteDatabase db = SqliteDatabase.open(file)) {
            Schema s = db.schema();
            return new ServedDatabase(name, file, s, s.toDdl().strip(), null);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("database " + name + ": " + e.getMessage(), e);
        }
    }

    public ServedDatabase withAdapter(String adapterName) {
        return new ServedDatabase(name, file, schema, ddl, adapterName);
    }
}
