package dev.gpt4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatabaseDrillsTest {
    @TempDir
    Path dir;

    /** A small HR database whose keys are NOT declared: joins must come from the column names. */
    Path hrDb() throws Exception {
        Path f = dir.resolve("hr.sqlite");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + f); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE dept (dept_id INTEGER PRIMARY KEY, name TEXT, city TEXT, budget REAL)");
            s.execute("CREATE TABLE staff (staff_id INTEGER PRIMARY KEY, name TEXT, dept_id INTEGER, role TEXT, salary REAL, hired DATE)");
            s.execute("INSERT INTO dept VALUES (1, 'Research', 'Oslo', 900), (2, 'Sales', 'Lima', 400), (3, 'Legal', 'Oslo', 300), (4, 'Empty', 'Kyiv', 10)");
            s.execute("INSERT INTO staff VALUES (1, 'Ada', 1, 'Engineer', 120, '2015-03-01'), (2, 'Bo', 1, 'Engineer', 90, '2019-07-15'),"
                    + " (3, 'Cy', 2, 'Seller', 70, '2020-01-10'), (4, 'Di', 2, 'Seller', 75, '2021-05-05'), (5, 'Ed', 3, 'Lawyer', 110, '2012-11-30'),"
                    + " (6, 'Flo', 1, 'Manager', 150, '2010-02-02')");
        }
        return f;
    }

    @Test
    void everyKeptDrillRunsAndFindsWhatItsQuestionImplies() throws Exception {
        Path file = TestData.concertDb(dir.resolve("concert.sqlite"));
        try (SqliteDatabase db = SqliteDatabase.open(file)) {
            DatabaseDrills.Result r = DatabaseDrills.generate("concert", db.schema(), db, DatabaseDrills.Options.defaults());
            assertTrue(r.drills().size() > 150, "drills: " + r.drills().size());
            for (TextToSqlExample e : r.drills()) {
                assertEquals(DatabaseDrills.SOURCE, e.source());
                assertTrue(SqlGuard.check(e.sql()).allowed(), e.toString());
                QueryResult q = db.query(e.sql());
                // count(*) with a WHERE built from the rows finds rows; other kept selects return a value (NOT IN and set
                // operations may honestly be empty, and are the only ones allowed to)
                boolean mayBeEmpty = e.sql().contains(" NOT IN ") || e.sql().contains(" EXCEPT ") || e.sql().contains(" INTERSECT ")
                        || e.sql().contains(" OR ") || e.sql().matches("SELECT count\\(\\*\\) FROM \\w+") || e.sql().startsWith("SELECT * FROM")
                        || e.sql().startsWith("SELECT count(DISTINCT");
                if (!mayBeEmpty) {
                    assertTrue(q.rows().stream().anyMatch(row -> row.stream().anyMatch(v -> v != null)), "empty result: " + e);
                }
                if (e.sql().startsWith("SELECT count(*)") && e.sql().contains(" WHERE ") && !e.sql().contains(" NOT IN ")) {
                    assertTrue(((Number) q.rows().get(0).get(0)).longValue() > 0, "a count of nothing: " + e);
                }
            }
            assertEquals(r.drills(), DatabaseDrills.generate("concert", db.schema(), db, DatabaseDrills.Options.defaults()).drills(), "deterministic");
            assertNotEquals(r.drills(), DatabaseDrills.generate("concert", db.schema(), db, DatabaseDrills.Options.defaults().withSeed(2)).drills());
        }
    }

    @Test
    void theIntentsOfRealQuestionsAreThereInSeveralPhrasings() throws Exception {
        Path file = TestData.concertDb(dir.resolve("concert.sqlite"));
        try (SqliteDatabase db = SqliteDatabase.open(file)) {
            DatabaseDrills.Result r = DatabaseDrills.generate("concert", db.schema(), db, DatabaseDrills.Options.defaults().withPhrasings(3));
            Set<String> templates = r.report().kept().entrySet().stream().filter(e -> e.getValue() > 0).map(Map.Entry::getKey).collect(Collectors.toSet());
            for (String t : List.of("count", "column", "distinct", "count-distinct", "aggregate", "group-count", "group-aggregate", "group-top", "having",
                    "order", "superlative", "top-n", "compare", "between", "where-text", "like", "two-conditions", "nested", "year", "join",
                    "join-where", "join-group-aggregate", "join-having", "not-in", "set-operation")) {
                assertTrue(templates.contains(t), "no " + t + " drill: " + r.report().kept());
            }
            Map<String, List<String>> bySql = r.drills().stream().collect(Collectors.groupingBy(TextToSqlExample::sql,
                    Collectors.mapping(TextToSqlExample::question, Collectors.toList())));
            assertTrue(bySql.values().stream().filter(qs -> qs.size() >= 3).count() > 50, "three phrasings of one SQL, often");
            String all = r.drills().stream().map(TextToSqlExample::question).collect(Collectors.joining("\n"));
            assertTrue(all.contains(" by country") || all.contains(" per country") || all.contains("each country"), "grouping phrased by/per/each");
            assertTrue(all.contains("singers") && all.contains("singer "), "singular and plural");
            assertTrue(all.contains("concert name"), "identifiers split into words");
            // Spider's style: T1/T2 aliases, double-quoted strings, lower-case functions
            assertTrue(r.drills().stream().anyMatch(e -> e.sql().contains("FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id")));
            assertTrue(r.drills().stream().anyMatch(e -> e.sql().matches(".*country = \"(France|Netherlands|United States)\".*")), "a country of the rows");
            assertTrue(r.drills().stream().noneMatch(e -> e.sql().contains("COUNT(") || e.sql().contains("AVG(")));
            // real values: a comparison with a value the column holds
            assertTrue(r.drills().stream().anyMatch(e -> e.sql().matches(".*WHERE age [<>] (29|32|41|43|52)")), "a comparison with one of the ages");
        }
    }

    @Test
    void keysWithoutForeignKeyDeclarationsAreInferredFromTheirNames() throws Exception {
        try (SqliteDatabase db = SqliteDatabase.open(hrDb())) {
            Schema s = db.schema();
            assertTrue(s.foreignKeys().isEmpty());
            DatabaseDrills.Result r = DatabaseDrills.generate("hr", s, db, DatabaseDrills.Options.defaults());
            assertEquals(List.of("staff.dept_id -> dept.dept_id"), r.report().inferredKeys());
            assertTrue(r.drills().stream().anyMatch(e -> e.sql().contains("FROM staff AS T1 JOIN dept AS T2 ON T1.dept_id = T2.dept_id GROUP BY T1.dept_id")),
                    "a join along the inferred key");
            // a date column gets before/after and most-recent drills with its values
            assertTrue(r.drills().stream().anyMatch(e -> e.sql().matches(".*WHERE hired [<>] \"20\\d\\d-\\d\\d-\\d\\d\"")), "date comparisons");
        }
    }

    @Test
    void drillsThatFailOnTheDatabaseAreDroppedAndCounted() throws Exception {
        // the DDL names a column the file lacks: every drill that uses it fails on the database
        Schema s = Schema.fromDdl("CREATE TABLE dept (dept_id INTEGER PRIMARY KEY, name TEXT, city TEXT, budget REAL, motto TEXT);"
                + "CREATE TABLE staff (staff_id INTEGER PRIMARY KEY, name TEXT, dept_id INTEGER REFERENCES dept(dept_id), role TEXT, salary REAL, hired DATE)");
        try (SqliteDatabase db = SqliteDatabase.open(hrDb())) {
            DatabaseDrills.Result r = DatabaseDrills.generate("hr", s, db, DatabaseDrills.Options.defaults());
            int errors = r.report().droppedBy().getOrDefault("error", 0);
            assertTrue(errors > 0, r.report().toString());
            assertTrue(r.drills().stream().noneMatch(e -> e.sql().contains("motto")), "no kept drill uses the missing column");
            assertEquals(r.report().droppedTotal(), r.report().droppedBy().values().stream().mapToInt(Integer::intValue).sum());
            assertEquals(r.drills().size(), r.report().keptTotal());
            // empty results where one is implied are dropped too ("Empty" has no staff: counts of its staff are dropped)
            assertTrue(r.report().droppedBy().getOrDefault("empty", 0) >= 0);
            assertTrue(r.drills().stream().noneMatch(e -> e.sql().startsWith("SELECT count(*)") && e.sql().contains("T2.name = \"Empty\"")));
        }
    }

    @Test
    void heldOutQuestionsAreNeverWritten() throws Exception {
        try (SqliteDatabase db = SqliteDatabase.open(hrDb())) {
            DatabaseDrills.Result all = DatabaseDrills.generate("hr", db.schema(), db, DatabaseDrills.Options.defaults().withPhrasings(8));
            String q = all.drills().get(all.drills().size() / 2).question();
            String variant = "  " + q.toUpperCase().replace("?", "").replace(".", "") + ", please!"; // case, punctuation, "please"
            DatabaseDrills.Result held = DatabaseDrills.generate("hr", db.schema(), db, DatabaseDrills.Options.defaults().withPhrasings(8)
                    .withHeldOut(Set.of(variant)));
            String nq = DatabaseDrills.normalizeQuestion(q);
            assertTrue(held.drills().stream().noneMatch(e -> DatabaseDrills.normalizeQuestion(e.question()).equals(nq)));
            assertTrue(held.report().droppedBy().get("held-out") >= 1);
        }
    }

    @Test
    void aLargeTableIsSampledWithABound() throws Exception {
        Path f = dir.resolve("big.sqlite");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + f); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("CREATE TABLE reading (reading_id INTEGER PRIMARY KEY, station TEXT, value REAL)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO reading VALUES (?, ?, ?)")) {
                Random rnd = new Random(1);
                for (int i = 1; i <= 200_000; i++) {
                    ps.setInt(1, i);
                    ps.setString(2, "S" + rnd.nextInt(50));
                    ps.setDouble(3, rnd.nextInt(1000));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
        }
        try (SqliteDatabase db = SqliteDatabase.open(f)) {
            Table t = db.schema().table("reading");
            RowSample sample = RowSample.of(db, t, 100, new Random(3));
            assertTrue(sample.read() <= 100 && sample.rows().size() == sample.read(), "read " + sample.read());
            assertTrue(sample.rows().stream().anyMatch(r -> ((Number) r.get(0)).longValue() > 1000), "rows from beyond the table's start");
            long t0 = System.nanoTime();
            DatabaseDrills.Result r = DatabaseDrills.generate("big", db.schema(), db, DatabaseDrills.Options.defaults().withRowsPerTable(100));
            assertTrue(r.report().rowsRead() <= 100, "rows read: " + r.report().rowsRead());
            assertFalse(r.drills().isEmpty());
            assertTrue((System.nanoTime() - t0) / 1e9 < 60, "took " + (System.nanoTime() - t0) / 1e9 + " s");
        }
    }

    @Test
    void withoutADatabaseValuesAreMadeUpOrLeftOut() {
        Schema s = Schema.fromDdl("CREATE TABLE player (player_id INT PRIMARY KEY, name TEXT, team TEXT, goals INT, birth_year INT)");
        DatabaseDrills.Result made = DatabaseDrills.generate("p", s, null, DatabaseDrills.Options.defaults());
        assertEquals("synthetic", made.report().values());
        assertTrue(made.drills().stream().anyMatch(e -> e.sql().contains("WHERE team = \"")), "text conditions with made-up values");
        DatabaseDrills.Result none = DatabaseDrills.generate("p", s, null, DatabaseDrills.Options.defaults().withSyntheticValues(false));
        assertEquals("none", none.report().values());
        assertTrue(none.drills().stream().noneMatch(e -> e.sql().contains(" = \"")), "no values without rows");
        assertFalse(none.drills().isEmpty());
    }

    @Test
    void aSchemaWithNoTablesIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DatabaseDrills.generate("x", new Schema("empty", List.of(), List.of()), null, DatabaseDrills.Options.defaults()));
        assertTrue(e.getMessage().contains("no tables"), e.getMessage());
    }

    @Test
    void schemaHashIsTheSameForTheDdlAndTheDatabaseAndChangesWithTheSchema() throws Exception {
        Path db = TestData.concertDb(dir.resolve("c.sqlite"));
        try (SqliteDatabase d = SqliteDatabase.open(db)) {
            assertEquals(PromptFormat.schemaHash(Schema.fromDdl(TestData.CONCERT_DDL)), PromptFormat.schemaHash(d.schema()));
        }
        assertNotEquals(PromptFormat.schemaHash(Schema.fromDdl(TestData.CONCERT_DDL)),
                PromptFormat.schemaHash(Schema.fromDdl(TestData.CONCERT_DDL.replace("capacity", "seats"))));
    }

    @Test
    void wikiSqlDrillsReadBackAsLogicalForms() {
        WikiSqlTable t = new WikiSqlTable("1-2345-6", List.of("Player", "No.", "Nationality", "Position", "Years in Toronto"), List.of(), List.of());
        DatabaseDrills.Result r = WikiSqlDrills.generate(t.id(), t.schema(), DatabaseDrills.Options.defaults());
        assertTrue(r.drills().size() > 20, "drills: " + r.drills().size());
        Map<String, Integer> aggs = new HashMap<>();
        for (TextToSqlExample e : r.drills()) {
            LogicalForm lf = LogicalForm.parse(e.sql(), t); // the scorer's reading of a prediction
            assertTrue(lf != null, e.toString());
            aggs.merge(LogicalForm.AGGREGATES.get(lf.agg()), 1, Integer::sum);
            for (LogicalForm.Condition c : lf.conds()) {
                String v = c.value();
                assertTrue(e.question().toLowerCase().contains(v.toLowerCase()), "the value is in the question: " + e);
            }
        }
        assertTrue(aggs.size() >= 4, "aggregates: " + aggs);
    }
}
