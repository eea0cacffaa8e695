package dev.gpt4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.SqliteDatabase;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** gpt4j adapt: bad input, the folder and record it writes, ask picking the adapter up, and feedback being learned. */
class AdaptCommandTest extends CommandRun {
    @TempDir
    static Path dir;
    static Path tiny, db, empty;
    static final String SHOP_DDL = "CREATE TABLE customer (customer_id INTEGER PRIMARY KEY, name TEXT, city TEXT, age INTEGER);\n"
            + "CREATE TABLE purchase (purchase_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer(customer_id), item TEXT, price REAL);\n";

    @BeforeAll
    static void setUp() throws Exception {
        BpeTokenizer tok = new BpeTrainer(400, PromptFormat.SPECIAL_TOKENS).train(List.of(
                "SELECT count(*) FROM singer", "How many singers are there?", "CREATE TABLE singer (name TEXT, age INT)"));
        tiny = dir.resolve("tiny");
        try (GptModel m = GptModel.create(new GptConfig(tok.vocabSize(), 256, 32, 1, 2, 0.0, 1e-5, true, true), 1)) {
            m.save(tiny);
        }
        tok.save(tiny);
        db = dir.resolve("shop.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            for (String stmt : SHOP_DDL.split(";")) if (!stmt.isBlank()) s.execute(stmt);
            s.execute("INSERT INTO customer VALUES (1, 'Ana', 'Porto', 31), (2, 'Ben', 'Leeds', 45), (3, 'Caro', 'Porto', 27), (4, 'Dan', 'Graz', 60)");
            s.execute("INSERT INTO purchase VALUES (1, 1, 'lamp', 20.5), (2, 1, 'desk', 120), (3, 2, 'lamp', 22), (4, 3, 'chair', 45), (5, 3, 'lamp', 19)");
        }
        empty = Files.createDirectories(dir.resolve("no-data")); // no fine-tuning data: no replay, and quick
    }

    void assertOneLine(String text) {
        assertEquals(1, text.strip().split("\n").length, text);
        assertFalse(text.contains("\tat "), text);
    }

    @Test
    void badInputIsOneLineNamingTheFileOrValue() throws Exception {
        assertEquals(1, run("adapt", "--model", tiny.toString(), "--out", dir.resolve("a0").toString()));
        assertTrue(err.contains("--db") && err.contains("--schema"), err);

        Path notDb = Files.writeString(dir.resolve("notes.db"), "this is not a SQLite file, just text that goes on for a while ".repeat(20));
        assertEquals(1, run("adapt", "--model", tiny.toString(), "--db", notDb.toString(), "--out", dir.resolve("a1").toString()));
        assertTrue(err.contains("notes.db"), err);
        assertOneLine(err);

        Path noTables = Files.writeString(dir.resolve("none.sql"), "-- nothing here\nCREATE INDEX i ON t(x);\n");
        assertEquals(1, run("adapt", "--model", tiny.toString(), "--schema", noTables.toString(), "--out", dir.resolve("a2").toString()));
        assertTrue(err.contains("none.sql") && err.contains("no CREATE TABLE"), err);
        assertOneLine(err);

        Path exists = Files.createDirectories(dir.resolve("taken"));
        Files.writeString(exists.resolve("keep.txt"), "mine");
        assertEquals(1, run("adapt", "--model", tiny.toString(), "--db", db.toString(), "--out", exists.toString()));
        assertTrue(err.contains("taken") && err.contains("already exists") && err.contains("--force"), err);
        assertEquals("mine", Files.readString(exists.resolve("keep.txt")), "an existing folder is left alone");

        assertEquals(2, run("adapt", "--model", tiny.toString(), "--db", db.toString(), "--out", dir.resolve("a3").toString(), "--steps", "3",
                "--minutes", "1"));
        assertTrue(err.contains("mutually exclusive"), err);
        assertEquals(1, run("adapt", "--model", tiny.toString(), "--db", db.toString(), "--out", dir.resolve("a4").toString(), "--feedback",
                dir.resolve("nofile.tsv").toString()));
        assertTrue(err.contains("nofile.tsv"), err);
        assertFalse(Files.exists(dir.resolve("a3")) || Files.exists(dir.resolve("a4")));
    }

    @Test
    void writesAnAdapterAndItsRecordAtomicallyAndAskPicksItUp() throws Exception {
        Path fb = Files.writeString(dir.resolve("fb.tsv"), "Who lives in Porto?\tSELECT name FROM customer WHERE city = 'Porto'\n"
                + "broken line without a tab\n" + "Delete\tDELETE FROM customer\n");
        Path adapter = dir.resolve("shop.adapter"); // named like the database: ask finds it
        assertEquals(0, run("adapt", "--model", tiny.toString(), "--db", db.toString(), "--feedback", fb.toString(), "--out", adapter.toString(),
                "--steps", "3", "--data", empty.toString()), err);
        for (String f : List.of("adapter_config.json", "adapter_model.safetensors", "gpt4j-adapt.json", "metrics.jsonl")) {
            assertTrue(Files.isRegularFile(adapter.resolve(f)), f);
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".tmp-")), "no temporary folder left");
        }
        JsonNode rec = new ObjectMapper().readTree(adapter.resolve("gpt4j-adapt.json").toFile());
        try (SqliteDatabase d = SqliteDatabase.open(db)) {
            assertEquals(PromptFormat.schemaHash(d.schema()), rec.path("schema").path("hash").asText());
        }
        assertTrue(rec.path("drills").path("kept").asInt() > 50, rec.path("drills").toString());
        assertTrue(rec.path("drills").path("by_template").has("join"), rec.path("drills").toString());
        assertEquals(1, rec.path("feedback").path("pairs_used").asInt());
        assertEquals(2, rec.path("feedback").path("lines_skipped").asInt());
        assertTrue(rec.path("feedback").path("skipped").get(0).asText().startsWith("line 2:"), rec.path("feedback").toString());
        assertEquals(0, rec.path("replay").path("examples").asInt());
        assertEquals(3, rec.path("training").path("steps").asInt());
        assertTrue(out.contains("1 pairs used, 2 lines skipped"), out);

        // ask --schema shop.sql finds shop.adapter beside it (learned from shop.db: the same schema), and says so on standard error
        Path ddl = Files.writeString(dir.resolve("shop.sql"), SHOP_DDL);
        assertEquals(0, run("ask", "--model", tiny.toString(), "--schema", ddl.toString(), "--no-constrained", "How many customers?"), err);
        assertTrue(err.startsWith("note: answering with the adapter") && err.lines().findFirst().get().contains("shop.adapter"), err);
        assertEquals(0, run("ask", "--model", tiny.toString(), "--schema", ddl.toString(), "--no-constrained", "--no-adapter", "How many customers?"), err);
        assertFalse(err.contains("adapter"), err);
        // an adapter learned for another schema: one warning line, and the answer still comes
        Path other = Files.writeString(dir.resolve("other.sql"), "CREATE TABLE singer (name TEXT, age INT);");
        assertEquals(0, run("ask", "--model", tiny.toString(), "--schema", other.toString(), "--adapter", adapter.toString(), "--no-constrained",
                "How many singers?"), err);
        // (the untrained model's SQL may add a note of its own on the next line)
        assertTrue(err.startsWith("warning:") && err.lines().findFirst().get().contains("learned for the schema 'shop'"), err);
        assertEquals(1, err.lines().filter(l -> l.contains("learned for")).count(), err);
        assertEquals(1, out.strip().split("\n").length, out);

        // an existing folder is replaced only with --force, in one rename
        String created = rec.path("created").asText();
        assertEquals(1, run("adapt", "--model", tiny.toString(), "--db", db.toString(), "--out", adapter.toString(), "--steps", "2",
                "--data", empty.toString()));
        assertEquals(0, run("adapt", "--model", tiny.toString(), "--db", db.toString(), "--out", adapter.toString(), "--steps", "2",
                "--data", empty.toString(), "--force"), err);
        JsonNode again = new ObjectMapper().readTree(adapter.resolve("gpt4j-adapt.json").toFile());
        assertNotEquals(created, again.path("created").asText());
        assertTrue(again.path("feedback").isNull());
    }

    @Test
    void aTimeBudgetChoosesTheStepsAndIsKept() throws Exception {
        Path a = dir.resolve("timed");
        long t0 = System.nanoTime();
        assertEquals(0, run("adapt", "--model", tiny.toString(), "--db", db.toString(), "--out", a.toString(), "--minutes", "0.4",
                "--data", empty.toString()), err);
        double secs = (System.nanoTime() - t0) / 1e9;
        JsonNode t = new ObjectMapper().readTree(a.resolve("gpt4j-adapt.json").toFile()).path("training");
        assertTrue(t.path("planned_steps").asInt() >= 1 && t.path("steps").asInt() <= t.path("planned_steps").asInt(), t.toString());
        assertEquals(0.4, t.path("minutes_budget").asDouble());
        assertTrue(secs < 0.4 * 60 + 20, "took " + secs + " s");
    }

    /**
     * The shipped model, adapted to a small database with one corrected pair: ask then answers that question with the
     * corrected SQL, which it did not before.
     */
    @Test
    void aCorrectedPairIsWhatAskAnswersAfterAdapting() throws Exception {
        String shipped = Path.of("..", "models", "gpt4j-sql").toString();
        String q = "Which customers bought a lamp?";
        String fixed = "SELECT DISTINCT T1.name FROM customer AS T1 JOIN purchase AS T2 ON T1.customer_id = T2.customer_id WHERE T2.item = \"lamp\"";
        assertEquals(0, run("ask", "--model", shipped, "--execute", db.toString(), "--no-adapter", q), err);
        String before = out.strip().split("\n")[0];
        assertNotEquals(fixed, before, "the model alone does not know it");
        Path fb = Files.writeString(dir.resolve("fix.tsv"), q + "\t" + fixed + "\n");
        Path a = dir.resolve("fixed.adapter");
        assertEquals(0, run("adapt", "--model", shipped, "--db", db.toString(), "--feedback", fb.toString(), "--feedback-weight", "30",
                "--phrasings", "1", "--steps", "40", "--data", empty.toString(), "--out", a.toString()), err);
        assertEquals(0, run("ask", "--model", shipped, "--execute", db.toString(), "--adapter", a.toString(), q), err);
        assertEquals(fixed, out.strip().split("\n")[0], "the corrected SQL; before: " + before);
    }
}
