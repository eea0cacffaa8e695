package dev.gpt4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaDrillsTest {
    @Test
    void identifiersInWords() {
        assertEquals("people id", SchemaDrills.words("People_ID"));
        assertEquals("flight no", SchemaDrills.words("FlightNo"));
        assertEquals("singer in concert", SchemaDrills.words("singer_in_concert"));
        assertEquals("singer in concerts", SchemaDrills.plural("singer in concert"));
        assertEquals("cities", SchemaDrills.plural("city"));
        assertEquals("days", SchemaDrills.plural("day"));
        assertEquals("classes", SchemaDrills.plural("class"));
        assertEquals("matches", SchemaDrills.plural("match"));
        assertEquals("pets", SchemaDrills.plural("pets"));
        assertEquals("people", SchemaDrills.plural("people"));
        assertEquals("car data", SchemaDrills.plural("car data"));
        assertEquals("version 2", SchemaDrills.plural("version 2"));
        assertEquals("product", SchemaDrills.singular("products"));
        assertEquals("city", SchemaDrills.singular("cities"));
        assertEquals("class", SchemaDrills.singular("classes"));
        assertEquals("class", SchemaDrills.singular("class"));
        assertEquals("status", SchemaDrills.singular("status"));
        assertEquals("order item", SchemaDrills.singular("order items"));
    }

    @Test
    void drillsOfASmallDatabaseAnswerTheirQuestions(@TempDir Path dir) throws Exception {
        Path file = TestData.concertDb(dir.resolve("concert.sqlite"));
        try (SqliteDatabase db = SqliteDatabase.open(file)) {
            Schema schema = db.schema();
            List<TextToSqlExample> drills = SchemaDrills.forSchema("concert", schema, SchemaDrills.databaseValues(db));
            Map<String, String> byQuestion = new HashMap<>();
            for (TextToSqlExample e : drills) {
                assertEquals(SchemaDrills.SOURCE, e.source());
                assertEquals("concert", e.group());
                byQuestion.put(e.question(), e.sql());
                db.query(e.sql()); // every drill runs on its database
            }
            // one count question per table, naming the table in the plural
            for (String table : List.of("stadium", "singer", "concert")) {
                long n = drills.stream().filter(e -> e.sql().equals("SELECT count(*) FROM " + table)).count();
                assertEquals(1, n, table);
                String q = drills.stream().filter(e -> e.sql().equals("SELECT count(*) FROM " + table)).findFirst().orElseThrow().question();
                assertTrue(q.toLowerCase().contains(table + "s"), q);
            }
            // the join along concert.stadium_id -> stadium.stadium_id, and conditions with the database's values
            assertTrue(drills.stream().anyMatch(e -> e.sql().contains("FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = T2.stadium_id")),
                    drills.toString());
            List<TextToSqlExample> withText = drills.stream().filter(e -> e.sql().contains(" = \"")).toList();
            assertFalse(withText.isEmpty(), drills.toString());
            for (TextToSqlExample e : withText) {
                String v = e.sql().substring(e.sql().indexOf(" = \"") + 4, e.sql().lastIndexOf('"'));
                assertTrue(e.question().contains(v), e.toString());
                if (e.sql().startsWith("SELECT count(*)")) {
                    assertTrue(((Number) db.query(e.sql()).rows().get(0).get(0)).intValue() > 0, "the value is one of the database's: " + e);
                } else {
                    assertFalse(db.query(e.sql()).rows().isEmpty(), "the value is one of the database's: " + e);
                }
            }
            // key-like columns are not asked for
            for (TextToSqlExample e : drills) assertFalse(e.sql().matches("SELECT (\\w+_id) FROM .*"), e.toString());
            // deterministic
            assertEquals(drills, SchemaDrills.forSchema("concert", schema, SchemaDrills.databaseValues(db)));
            // without values: no conditions on values, the rest unchanged
            List<TextToSqlExample> bare = SchemaDrills.forSchema("concert", schema, SchemaDrills.Values.NONE);
            assertTrue(bare.stream().noneMatch(e -> e.sql().contains(" WHERE ")), bare.toString());
            assertTrue(bare.size() < drills.size());
        }
    }

    @Test
    void compoundDrillsOfASmallDatabase(@TempDir Path dir) throws Exception {
        Path file = TestData.concertDb(dir.resolve("concert.sqlite"));
        try (SqliteDatabase db = SqliteDatabase.open(file)) {
            Schema schema = db.schema();
            List<TextToSqlExample> drills = SchemaDrills.compoundForSchema("concert", schema, SchemaDrills.databaseValues(db));
            for (TextToSqlExample e : drills) {
                assertEquals(SchemaDrills.COMPOUND, e.source());
                db.query(e.sql());
            }
            List<String> sqls = drills.stream().map(TextToSqlExample::sql).toList();
            assertTrue(sqls.contains("SELECT count(*) FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert)"), sqls.toString());
            assertTrue(sqls.stream().anyMatch(q -> q.startsWith("SELECT T2.") && q.endsWith(" FROM concert AS T1 JOIN stadium AS T2 ON T1.stadium_id = "
                    + "T2.stadium_id GROUP BY T1.stadium_id HAVING count(*) >= 2")), sqls.toString());
            assertTrue(sqls.contains("SELECT name FROM stadium WHERE capacity > (SELECT avg(capacity) FROM stadium)"), sqls.toString());
            assertTrue(sqls.stream().anyMatch(q -> q.matches("SELECT count\\(\\*\\) FROM singer WHERE \\w+ = \"[^\"]+\" AND age > \\d+")), sqls.toString());
            // the basic drills are not among them, and each set is deterministic
            assertTrue(drills.stream().noneMatch(e -> e.sql().equals("SELECT count(*) FROM singer")));
            assertEquals(drills, SchemaDrills.compoundForSchema("concert", schema, SchemaDrills.databaseValues(db)));
        }
    }

    @Test
    void spiderTrainDrillsRunOnTheirDatabasesAndLeaveDevOut() {
        Spider spider = Spider.open(TestData.dir("spider").resolve("spider"));
        List<TextToSqlExample> drills = new java.util.ArrayList<>(SchemaDrills.fromSpiderTrain(spider));
        int basic = drills.size();
        drills.addAll(SchemaDrills.fromSpiderTrain(spider, true));
        assertTrue(drills.size() - basic > 2_000, (drills.size() - basic) + " compound drills");
        Set<String> devDbs = new HashSet<>();
        spider.examples("dev").forEach(e -> devDbs.add(e.dbId()));
        Set<String> trainDbs = new HashSet<>();
        spider.examples("train").forEach(e -> trainDbs.add(e.dbId()));
        assertTrue(drills.size() > 5_000, drills.size() + " drills");
        Map<String, SqliteDatabase> open = new HashMap<>();
        try {
            int failed = 0;
            StringBuilder first = new StringBuilder();
            for (TextToSqlExample e : drills) {
                assertFalse(devDbs.contains(e.group()), e.toString());
                assertTrue(trainDbs.contains(e.group()), e.toString());
                assertTrue(SqlGuard.parses(e.sql()), e.toString());
                if (!spider.hasDatabase(e.group())) {
                    assertFalse(e.sql().matches(".*(= \"|[<>] [0-9]).*"), "no values without a database file: " + e);
                    continue;
                }
                SqliteDatabase db = open.computeIfAbsent(e.group(), g -> SqliteDatabase.open(spider.databasePath(g)));
                try {
                    db.query(e.sql());
                } catch (RuntimeException ex) {
                    if (failed++ < 5) first.append(e).append(": ").append(ex.getMessage()).append('\n');
                }
            }
            if (failed > 0) fail(failed + " of " + drills.size() + " drills fail on their database, e.g.\n" + first);
        } finally {
            open.values().forEach(SqliteDatabase::close);
        }
    }
}
