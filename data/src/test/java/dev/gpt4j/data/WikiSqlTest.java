package dev.gpt4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WikiSqlTest {
    @TempDir
    Path tmp;

    private static final String FULL_TABLES = """
            {"id": "1-1", "header": ["Player", "No.", "Position", "He said \\"hi\\""], "types": ["text", "real", "text", "text"], "rows": [["Bob", 3, "Guard", "x"]], "page_title": "t"}
            {"id": "1-2", "header": ["Year", "Team"], "types": ["real", "text"], "rows": []}
            """;
    private static final String HEADER_ONLY_TABLES = """
            {"id": "1-1", "header": ["Player", "No.", "Position", "He said \\"hi\\""]}
            {"id": "1-2", "header": ["Year", "Team"]}
            """;
    private static final String QUESTIONS = """
            {"phase": 1, "table_id": "1-1", "question": "Who wears number 3?", "sql": {"sel": 0, "conds": [[1, 0, "3"]], "agg": 0}}
            {"phase": 1, "table_id": "1-1", "question": "How many guards with number over 2?", "sql": {"sel": 0, "conds": [[2, 0, "Guard"], [1, 1, 2]], "agg": 3}}
            {"phase": 1, "table_id": "1-2", "question": "Team of O'Neil in 1999?", "sql": {"sel": 1, "conds": [[0, 0, 1999.0], [1, 0, "O'Neil"]], "agg": 0}}
            {"phase": 1, "table_id": "9-9", "question": "A table that is not there", "sql": {"sel": 0, "conds": [], "agg": 0}}
            """;

    private WikiSql write(String tables) throws Exception {
        Path dir = tmp.resolve("wikisql");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("dev.tables.jsonl"), tables);
        Files.writeString(dir.resolve("dev.jsonl"), QUESTIONS);
        return WikiSql.open(dir);
    }

    @Test
    void readsFullAndHeaderOnlyTablesAndReportsMissingTables() throws Exception {
        for (String tables : List.of(FULL_TABLES, HEADER_ONLY_TABLES)) {
            WikiSql w = write(tables);
            WikiSql.Loaded dev = w.examples("dev");
            assertEquals(3, dev.examples().size());
            assertEquals(1, dev.skipped().size());
            assertTrue(dev.skipped().get(0).endsWith("dev.jsonl, line 4: table 9-9 is not in the tables file"), dev.skipped().get(0));
            LogicalForm lf = dev.examples().get(1).sql();
            assertEquals(new LogicalForm(0, 3, List.of(new LogicalForm.Condition(2, 0, "Guard"), new LogicalForm.Condition(1, 1, "2"))), lf);
            assertEquals("1999.0", dev.examples().get(2).sql().conds().get(0).value(), "Python's str() of a JSON float");
        }
        assertEquals(List.of(List.of("Bob", 3, "Guard", "x")), write(FULL_TABLES).tables("dev").get("1-1").rows());
    }

    @Test
    void rendersSqlAndReadsItBack() throws Exception {
        WikiSql w = write(FULL_TABLES);
        Map<String, WikiSqlTable> tables = w.tables("dev");
        List<WikiSqlExample> ex = w.examples("dev").examples();
        assertEquals("SELECT COUNT(\"Player\") FROM table_1_1 WHERE \"Position\" = 'Guard' AND \"No.\" > 2",
                ex.get(1).sql().toSql(tables.get("1-1")));
        assertEquals("SELECT \"Team\" FROM table_1_2 WHERE \"Year\" = 1999.0 AND \"Team\" = 'O''Neil'",
                ex.get(2).sql().toSql(tables.get("1-2")));
        for (WikiSqlExample e : ex) {
            WikiSqlTable t = tables.get(e.tableId());
            assertEquals(e.sql(), LogicalForm.parse(e.sql().toSql(t), t));
        }
        WikiSqlTable t1 = tables.get("1-1");
        LogicalForm q = LogicalForm.parse("select max(\"he said \"\"hi\"\"\") from whatever where (\"NO.\" < -1.5)", t1);
        assertEquals(new LogicalForm(3, 1, List.of(new LogicalForm.Condition(1, 2, "-1.5"))), q);
    }

    @Test
    void officialComparisonIgnoresValueCaseAndConditionOrder() {
        LogicalForm a = new LogicalForm(0, 0, List.of(new LogicalForm.Condition(1, 0, "Guard"), new LogicalForm.Condition(2, 1, "3")));
        LogicalForm b = new LogicalForm(0, 0, List.of(new LogicalForm.Condition(2, 1, "3"), new LogicalForm.Condition(1, 0, "guard")));
        assertTrue(a.matches(b));
        assertTrue(!a.matches(new LogicalForm(0, 3, b.conds())));
    }

    @Test
    void brokenPredictionsScoreZeroPerPart() throws Exception {
        WikiSql w = write(HEADER_ONLY_TABLES);
        WikiSql.Loaded dev = w.examples("dev");
        Map<String, WikiSqlTable> tables = w.tables("dev");
        List<String> gold = WikiSqlScorer.goldSql(dev.examples(), tables);
        ScoreReport g = WikiSqlScorer.score("dev", dev.examples(), tables, gold, dev.skipped());
        assertEquals(1.0, g.accuracy());
        assertEquals(Map.of("agg", 1.0, "select", 1.0, "where", 1.0), g.partAccuracy());
        assertTrue(g.summary().endsWith("logical-form accuracy: 100.00% (3/3)"), g.summary());

        List<String> broken = List.of(
                "SELECT \"Position\" FROM t WHERE \"No.\" = '3'",                                  // wrong column
                "SELECT COUNT(\"Player\") FROM t WHERE \"Position\" = 'Guard'",                    // dropped condition
                "SELECT \"Team\" FROM t WHERE \"Year\" = 1999.0 AND \"Team\" = 'Oneil'");          // wrong value
        ScoreReport b = WikiSqlScorer.score("dev", dev.examples(), tables, broken, dev.skipped());
        assertEquals(0, b.correct());
        assertEquals(Map.of("agg", 1.0, "select", 2 / 3.0, "where", 1 / 3.0), b.partAccuracy());
        ScoreReport junk = WikiSqlScorer.score("dev", dev.examples(), tables, List.of("", "SELECT", "DROP TABLE x"), dev.skipped());
        assertEquals(0, junk.correct());
        assertEquals(Map.of("parse", 3), junk.failures());
    }

    @Test
    void badLinesNameFileLineAndField() throws Exception {
        WikiSql w = write(FULL_TABLES);
        Path q = w.dir().resolve("dev.jsonl");
        Files.writeString(q, QUESTIONS.lines().findFirst().get() + "\n{\"table_id\": \"1-1\", \"question\": \"q\", \"sql\": {\"conds\": [], \"agg\": 0}}\n");
        DataFileException e = assertThrows(DataFileException.class, () -> w.examples("dev"));
        assertEquals(q + ", line 2, field sql: missing field \"sel\"", e.getMessage());
        Files.writeString(q, "{\"table_id\": \"1-1\", \"question\": \"q\", \"sql\": {\"sel\": 7, \"conds\": [], \"agg\": 0}}\n");
        e = assertThrows(DataFileException.class, () -> w.examples("dev"));
        assertEquals(q + ", line 1: field sql.sel = 7 but table 1-1 has 4 columns", e.getMessage());
        Files.writeString(q, "{\"table_id\": \"1-1\", \"question\": \"q\", \"sql\": {\"sel\": 0, \"conds\": [[0, 5, \"x\"]], \"agg\": 0}}\n");
        e = assertThrows(DataFileException.class, () -> w.examples("dev"));
        assertEquals(q + ", line 1: field sql.conds[0] has operator 5 (0 =, 1 >, 2 <)", e.getMessage());
        Files.writeString(q, "\n{\"table_id\": \"1-1\", \"question\": \n");
        e = assertThrows(DataFileException.class, () -> w.examples("dev"));
        assertTrue(e.getMessage().startsWith(q + ", line 2: bad JSON"), e.getMessage());
    }

    /** All of the real dev set: gold SQL rendered and read back scores 100%. */
    @Test
    void realDevGoldAgainstGold() {
        WikiSql w = WikiSql.open(TestData.dir("wikisql").resolve("wikisql"));
        WikiSql.Loaded dev = w.examples("dev");
        assertEquals(8421, dev.examples().size());
        List<String> gold = WikiSqlScorer.goldSql(dev.examples(), w.tables("dev"));
        ScoreReport r = WikiSqlScorer.score("dev", dev.examples(), w.tables("dev"), gold, dev.skipped());
        assertEquals(1.0, r.accuracy(), () -> r.wrong().subList(0, Math.min(5, r.wrong().size())).toString());
    }

    /** A table as a database: text compares ignoring case, numbers as numbers, and it cannot be written. */
    @Test
    void aTableBecomesAReadOnlyDatabase() throws Exception {
        WikiSqlTable t = write(FULL_TABLES).tables("dev").get("1-1");
        try (SqliteDatabase db = t.database(java.time.Duration.ofSeconds(2), 100)) {
            assertEquals(List.of(List.of("Bob")), db.query("SELECT \"Player\" FROM table_1_1 WHERE \"Position\" = 'gUARD' AND \"No.\" = '3'").rows());
            assertEquals(List.of(List.of(3.0)), db.query("SELECT \"No.\" FROM table_1_1 WHERE \"He said \"\"hi\"\"\" = 'X'").rows());
            assertEquals(List.of(), db.query("SELECT \"Player\" FROM table_1_1 WHERE \"No.\" > 3").rows());
            assertThrows(SqlExecutionException.class, () -> db.query("DELETE FROM table_1_1"));
            assertEquals(1, db.query("SELECT count(*) FROM table_1_1").rows().size());
            assertEquals(Path.of("wikisql table 1-1"), db.file());
        }
        WikiSqlTable headerOnly = write(HEADER_ONLY_TABLES).tables("dev").get("1-1");
        assertThrows(IllegalStateException.class, () -> headerOnly.database(java.time.Duration.ofSeconds(2), 100));
    }
}
