package dev.gpt4j.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What {@code gpt4j adapt} records beside an adapter ({@value #FILE}): which schema it was learned for (name and
 * {@link PromptFormat#schemaHash}), and the rest of its record as JSON (drills, feedback, replay, steps, time, base
 * model). An adapter folder without the file (one {@code gpt4j finetune --lora} wrote) has no record.
 *
 * @param schemaName the schema's name when it was learned
 * @param schemaHash its {@link PromptFormat#schemaHash}
 * @param json       the whole record
 */
public record AdapterRecord(String schemaName, String schemaHash, JsonNode json) {
    /** The record's file name inside an adapter folder. */
    public static final String FILE = "gpt4j-adapt.json";
    /** What a record's {@code format} key holds. */
    public static final String FORMAT = "gpt4j-adapt/1";
    /** The folder name suffix of an adapter found beside its schema or database: {@code employees.sql} → {@code employees.adapter}. */
    public static final String SUFFIX = ".adapter";

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The record of an adapter folder, or empty if it has none.
     *
     * @throws IllegalArgumentException naming the file if it exists but is not a record
     */
    public static Optional<AdapterRecord> read(Path adapterDir) {
        Path f = adapterDir.resolve(FILE);
        if (!Files.isRegularFile(f)) return Optional.empty();
        JsonNode n;
        try {
            n = JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(f + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        JsonNode s = n == null ? null : n.path("schema");
        if (s == null || !s.path("hash").isTextual()) throw new IllegalArgumentException(f + ": no schema.hash (not a " + FORMAT + " record)");
        return Optional.of(new AdapterRecord(s.path("name").asText(""), s.path("hash").asText(), n));
    }

    /** Whether the adapter was learned for this schema (the same prompt rendering). */
    public boolean fits(Schema schema) {
        return schemaHash.equals(PromptFormat.schemaHash(schema));
    }

    /**
     * The adapter folder that belongs to a schema or database file by name, if there is one: {@code DIR/NAME.adapter}
     * beside {@code DIR/NAME.sql} or {@code DIR/NAME.db}; else empty.
     */
    public static Optional<Path> beside(Path schemaOrDatabase) {
        Path name = schemaOrDatabase.getFileName();
        if (name == null) return Optional.empty();
        String stem = name.toString().replaceFirst("\\.[^.]*$", "");
        Path dir = schemaOrDatabase.toAbsolutePath().getParent().resolve(stem + SUFFIX);
        return Files.isDirectory(dir) ? Optional.of(dir) : Optional.empty();
    }

    /**
     * The adapter that {@code gpt4j ask} and {@code gpt4j serve} answer {@code schema}'s questions with unless told
     * otherwise: {@code NAME.adapter} beside the first of {@code files} (a schema or database file; nulls skipped) that
     * has one, if its record says it was learned for this schema. Either way {@code note} gets one line saying what was
     * chosen or why a folder found was not.
     *
     * @throws IllegalArgumentException naming the record file if it is not a record
     */
    public static Optional<Path> fittingBeside(Schema schema, java.util.function.Consumer<String> note, Path... files) {
        for (Path f : files) {
            if (f == null) continue;
            Optional<Path> dir = beside(f);
            if (dir.isEmpty()) continue;
            Optional<AdapterRecord> r = read(dir.get());
            if (r.isPresent() && r.get().fits(schema)) {
                note.accept("answering with the adapter " + dir.get() + " (learned for this schema by gpt4j adapt)");
                return dir;
            }
            note.accept("not using " + dir.get() + ": " + (r.isEmpty() ? "it has no " + FILE : "it was learned for the schema " + r.get().describe()));
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** One line for a warning: the schema it was learned for, with the start of its hash. */
    public String describe() {
        return "'" + schemaName + "' (" + schemaHash.substring(0, Math.min(schemaHash.length(), 19)) + "…)";
    }
}
