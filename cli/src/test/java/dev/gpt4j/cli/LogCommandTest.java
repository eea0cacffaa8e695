package dev.gpt4j.cli;

import dev.gpt4j.server.QueryLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** gpt4j log export: the corrected pairs of a query log as the TSV that adapt --feedback reads. */
class LogCommandTest extends CommandRun {

    private static long answered(QueryLog log, String db, String question, String sql) {
        return log.insert(new QueryLog.Entry("ask", 200, null, db, question, sql, true, true, null, true, 1, false, 40, 9, 0.1, 5.0, 20.0,
                1.0, 27.0, "gpt4j-sql", null, "127.0.0.1"));
    }

    @Test
    void exportsCorrectionsOldestFirstAndConfirmedOnRequest(@TempDir Path dir) throws Exception {
        Path db = dir.resolve("q.db");
        try (QueryLog log = QueryLog.open(db)) {
            long a = answered(log, "employees", "How many employees?", "SELECT count(*) FROM department");
            long b = answered(log, "employees", "List the departments", "SELECT name FROM department");
            long c = answered(log, "shop", "Show\tall\norders", "SELECT * FROM item");
            answered(log, "employees", "Unjudged question", "SELECT 1");
            log.insert(QueryLog.Entry.refused("ask", 400, "empty question", "employees", "", "gpt4j-sql", "127.0.0.1"));
            assertTrue(log.feedback(a, false, "SELECT count(*) FROM employee"));
            assertTrue(log.feedback(b, true, null));
            assertTrue(log.feedback(c, false, "SELECT *\nFROM orders"));
        }
        Path tsv = dir.resolve("out/corrections.tsv");
        assertEquals(0, run("log", "export", "--log", db.toString(), "--corrections", tsv.toString()), err);
        assertEquals("How many employees?\tSELECT count(*) FROM employee\nShow all orders\tSELECT * FROM orders\n",
                Files.readString(tsv, StandardCharsets.UTF_8));
        assertTrue(out.contains("wrote 2 pairs") && out.contains("2 corrected"), out);

        assertEquals(0, run("log", "export", "--log", db.toString(), "--corrections", tsv.toString(), "--database", "employees",
                "--include-confirmed"), err);
        assertEquals("How many employees?\tSELECT count(*) FROM employee\nList the departments\tSELECT name FROM department\n",
                Files.readString(tsv, StandardCharsets.UTF_8));
        assertTrue(out.contains("wrote 2 pairs") && out.contains("1 corrected, 1 confirmed"), out);
        try (var files = Files.list(tsv.getParent())) {
            assertEquals(1, files.count(), "no temporary file left beside the output");
        }
    }

    @Test
    void aMissingLogIsOneLineAndWritesNothing(@TempDir Path dir) {
        Path tsv = dir.resolve("c.tsv");
        assertNotEquals(0, run("log", "export", "--log", dir.resolve("none.db").toString(), "--corrections", tsv.toString()));
        assertTrue(err.contains("no query log at") && err.strip().lines().count() == 1, err);
        assertFalse(Files.exists(tsv));
    }
}
