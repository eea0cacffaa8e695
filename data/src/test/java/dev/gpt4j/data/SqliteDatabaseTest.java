package dev.gpt4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteDatabaseTest {
    @TempDir
    Path tmp;

    @Test
    void runsQueriesAndReturnsTypedRows() throws Exception {
        Path file = TestData.concertDb(tmp.resolve("concert.sqlite"));
        try (SqliteDatabase db = SqliteDatabase.open(file)) {
            QueryResult r = db.queryUntrusted("SELECT country, count(*), avg(age) FROM singer GROUP BY country ORDER BY country");
            assertEquals(List.of("country", "count(*)", "avg(age)"), r.columns());
            assertEquals(List.of("France", 2L, 35.0), r.rows().get(0));
            assertEquals(3, r.rows().size());
        }
    }

    @Test
    void connectionIsReadOnlyEvenWithoutTheGuard() throws Exception {
        Path file = TestData.concertDb(tmp.resolve("concert.sqlite"));
        long before = Files.size(file);
        try (SqliteDatabase db = SqliteDatabase.open(file)) {
            for (String write : List.of("DELETE FROM singer", "DROP TABLE singer", "CREATE TABLE x (a)",
                    "INSERT INTO singer VALUES (9, 'x', 'y', 1)", "ATTACH DATABASE '" + tmp.resolve("x.db") + "' AS x")) {
                SqlExecutionException e = assertThrows(SqlExecutionException.class, () -> db.query(write), write);
                assertEquals(SqlExecutionException.Kind.ERROR, e.kind());
            }
            assertEquals(5L, db.query("SELECT count(*) FROM singer").rows().get(0).get(0));
        }
        assertEquals(before, Files.size(file));
        assertTrue(Files.notExists(tmp.resolve("x.db")));
    }

    @Test
    void refusalComesFromTheGuard() throws Exception {
        Path file = TestData.concertDb(tmp.resolve("concert.sqlite"));
        try (SqliteDatabase db = SqliteDatabase.open(file)) {
            SqlExecutionException e = assertThrows(SqlExecutionException.class, () -> db.queryUntrusted("DELETE FROM singer"));
            assertEquals(SqlExecutionException.Kind.REFUSED, e.kind());
            assertEquals("DELETE is not a read-only query", e.getMessage());
        }
    }

    @Test
    void endlessQueryTimesOut() throws Exception {
        Path file = TestData.concertDb(tmp.resolve("concert.sqlite"));
        try (SqliteDatabase db = SqliteDatabase.open(file, Duration.ofMillis(300), 10)) {
            String endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n";
            SqlExecutionException e = assertThrows(SqlExecutionException.class, () -> db.queryUntrusted(endless));
            assertEquals(SqlExecutionException.Kind.TIMEOUT, e.kind());
            // the connection is still usable afterwards
            assertEquals(4L, db.query("SELECT count(*) FROM concert").rows().get(0).get(0));
        }
    }

    @Test
    void rowLimitTruncates() throws Exception {
        Path file = TestData.concertDb(tmp.resolve("concert.sqlite"));
        try (SqliteDatabase db = SqliteDatabase.open(file, Duration.ofSeconds(5), 2)) {
            QueryResult r = db.query("SELECT name FROM singer");
            assertEquals(2, r.rows().size());
            assertTrue(r.truncated());
            QueryResult exact = db.query("SELECT name FROM stadium WHERE capacity > 4000");
            assertEquals(1, exact.rows().size());
            assertTrue(!exact.truncated());
        }
    }

    @Test
    void aHugeValueFailsInsideSqliteInsteadOfFillingMemory() throws Exception {
        Path file = TestData.concertDb(tmp.resolve("concert.sqlite"));
        try (SqliteDatabase db = SqliteDatabase.open(file)) { // SQLite's own limit was 1 GB: this returned a 1 GB row
            SqlExecutionException e = assertThrows(SqlExecutionException.class, () -> db.queryUntrusted("SELECT randomblob(1000000000)"));
            assertEquals(SqlExecutionException.Kind.ERROR, e.kind());
            assertTrue(e.getMessage().contains("limit of " + SqliteDatabase.DEFAULT_MAX_BYTES + " bytes"), e.getMessage());
        }
        try (SqliteDatabase db = SqliteDatabase.open(file, Duration.ofSeconds(5), 10, 1000)) {
            assertThrows(SqlExecutionException.class, () -> db.queryUntrusted("SELECT zeroblob(1001)"));
            assertEquals(1000, ((byte[]) db.queryUntrusted("SELECT zeroblob(1000)").rows().get(0).get(0)).length);
        }
    }

    @Test
    void byteLimitTruncatesManySmallValues() throws Exception {
        Path file = TestData.concertDb(tmp.resolve("concert.sqlite"));
        // 5 rows of 300 bytes: within the length limit one by one, over the byte limit together
        String five = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i, zeroblob(292) FROM n";
        try (SqliteDatabase db = SqliteDatabase.open(file, Duration.ofSeconds(5), 100, 1000)) {
            QueryResult r = db.queryUntrusted(five);
            assertEquals(3, r.rows().size()); // 3 x 300 fit in 1000, the 4th would not
            assertTrue(r.truncated());
        }
        try (SqliteDatabase db = SqliteDatabase.open(file, Duration.ofSeconds(5), 100, 1500)) {
            QueryResult r = db.queryUntrusted(five);
            assertEquals(5, r.rows().size());
            assertTrue(!r.truncated());
        }
    }

    @Test
    void readsTheSchemaOfADatabase() throws Exception {
        Path file = TestData.concertDb(tmp.resolve("concert.sqlite"));
        try (SqliteDatabase db = SqliteDatabase.open(file)) {
            Schema s = db.schema();
            assertEquals(Schema.fromDdl(TestData.CONCERT_DDL).toDdl(), s.toDdl());
        }
    }

    @Test
    void missingFileIsAClearError() {
        DataFileException e = assertThrows(DataFileException.class, () -> SqliteDatabase.open(tmp.resolve("nope.sqlite")));
        assertTrue(e.getMessage().contains("nope.sqlite") && e.getMessage().contains("no such database file"), e.getMessage());
    }
}
