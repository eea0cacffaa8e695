package dev.gpt4j.sql;

import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

/** The one rule by which ask and serve pick the adapter beside a schema or database file. */
class AdapterRecordTest {
    static final Schema SHOP = Schema.fromDdl("CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT);");
    static final Schema OTHER = Schema.fromDdl("CREATE TABLE book (id INTEGER PRIMARY KEY, title TEXT);");

    static void record(Path dir, Schema learnedFor) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(AdapterRecord.FILE), "{\"format\": \"" + AdapterRecord.FORMAT + "\", \"schema\": {\"name\": \"shop\", \"hash\": \""
                + PromptFormat.schemaHash(learnedFor) + "\"}}");
    }

    @Test
    void theFirstFileWithAnAdapterDecidesAndOnlyAFittingRecordIsTaken(@TempDir Path dir) throws Exception {
        Path ddl = Files.writeString(dir.resolve("shop.sql"), "-- schema"), db = dir.resolve("data/shop.db");
        List<String> notes = new ArrayList<>();
        assertEquals(Optional.empty(), AdapterRecord.fittingBeside(SHOP, notes::add, ddl, db, null), "nothing beside: nothing chosen");
        assertEquals(List.of(), notes);

        record(dir.resolve("data/shop.adapter"), SHOP); // beside the database only
        assertEquals(Optional.of(dir.resolve("data/shop.adapter")), AdapterRecord.fittingBeside(SHOP, notes::add, ddl, db));
        assertTrue(notes.get(0).startsWith("answering with the adapter"), notes.toString());

        Files.createDirectories(dir.resolve("shop.adapter")); // beside the schema file, first in line, but no record
        notes.clear();
        assertEquals(Optional.empty(), AdapterRecord.fittingBeside(SHOP, notes::add, ddl, db));
        assertTrue(notes.get(0).contains("has no " + AdapterRecord.FILE), notes.toString());

        record(dir.resolve("shop.adapter"), OTHER); // a record for another schema
        notes.clear();
        assertEquals(Optional.empty(), AdapterRecord.fittingBeside(SHOP, notes::add, ddl, db));
        assertTrue(notes.get(0).contains("learned for the schema 'shop'"), notes.toString());

        record(dir.resolve("shop.adapter"), SHOP);
        assertEquals(Optional.of(dir.resolve("shop.adapter")), AdapterRecord.fittingBeside(SHOP, notes::add, ddl, db));
        assertEquals(Optional.empty(), AdapterRecord.fittingBeside(OTHER, notes::add, ddl, db), "the same folder for another schema");
    }
}
