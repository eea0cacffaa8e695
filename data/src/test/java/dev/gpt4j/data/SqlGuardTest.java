package dev.gpt4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SqlGuardTest {
    @ParameterizedTest
    @ValueSource(strings = {
        "SELECT count(*) FROM singer",
        "select name from singer where name = 'a;b' order by age desc limit 3",
        "SELECT name FROM singer; ",
        "-- the singers\nSELECT name FROM singer",
        "/* x */ SELECT name FROM singer /* ; DROP TABLE singer */",
        "SELECT name FROM singer WHERE country = \"France\" UNION SELECT name FROM stadium",
        "SELECT name FROM singer INTERSECT SELECT name FROM singer EXCEPT SELECT 'x'",
        "WITH t AS (SELECT age FROM singer) SELECT max(age) FROM t",
        "(SELECT 1)",
        "SELECT 'drop table singer; insert into x' AS text",
        "SELECT \"update\" FROM t",
        "SELECT name FROM [my table]",
        "SeLeCt NaMe FrOm singer",
    })
    void allowsReadOnlyQueries(String sql) {
        SqlCheck c = SqlGuard.check(sql);
        assertTrue(c.allowed(), () -> sql + " -> " + c);
        assertFalse(c.sql().endsWith(";"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "DROP TABLE singer|DROP is not a read-only query",
        "dRoP tAbLe singer|DROP is not a read-only query",
        "DELETE FROM singer|DELETE is not a read-only query",
        "INSERT INTO singer VALUES (1)|INSERT is not a read-only query",
        "UPDATE singer SET age = 1|UPDATE is not a read-only query",
        "CREATE TABLE x (a int)|CREATE is not a read-only query",
        "ALTER TABLE singer ADD COLUMN x|ALTER is not a read-only query",
        "PRAGMA writable_schema = 1|PRAGMA is not a read-only query",
        "ATTACH DATABASE '/tmp/x.db' AS x|ATTACH is not a read-only query",
        "DETACH DATABASE x|DETACH is not a read-only query",
        "VACUUM|VACUUM is not a read-only query",
        "REPLACE INTO singer VALUES (1)|REPLACE is not a read-only query",
        "SELECT 1; DROP TABLE singer|2 statements; only one query may run",
        "SELECT 1;SELECT 2|2 statements; only one query may run",
        "/* hi */ DROP TABLE singer -- SELECT|DROP is not a read-only query",
        "SELECT 'a'; DELETE FROM singer WHERE name = ';'|2 statements; only one query may run",
        "SELECT * INTO backup FROM singer|INTO inside a query is not allowed",
        "WITH d AS (DELETE FROM singer RETURNING *) SELECT * FROM d|DELETE inside a query is not allowed",
        "SELECT load_extension('/tmp/evil.so')|function load_extension() is not allowed",
        "SELECT LOAD_EXTENSION ('/tmp/evil.so')|function load_extension() is not allowed",
        "SELECT writefile('/tmp/x', name) FROM singer|function writefile() is not allowed",
        "   |empty query",
        ";;|no statement (only comments or semicolons)",
        "-- nothing|no statement (only comments or semicolons)",
        "EXPLAIN SELECT 1|EXPLAIN is not a read-only query",
    })
    void refusesWithReason(String sql, String reason) {
        SqlCheck c = SqlGuard.check(sql == null ? "" : sql);
        assertFalse(c.allowed(), () -> sql + " was allowed");
        assertEquals(reason, c.reason());
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT FROM WHERE", "SELECT (1", "SELECT name FROM singer WHERE"})
    void refusesWhatDoesNotParse(String sql) {
        SqlCheck c = SqlGuard.check(sql);
        assertFalse(c.allowed());
        assertTrue(c.reason().startsWith("does not parse: "), c.reason());
    }

    @org.junit.jupiter.api.Test
    void splitsStatementsOutsideStringsAndComments() {
        assertEquals(1, SqlText.statements("SELECT 'it''s; fine'").size());
        assertEquals(1, SqlText.statements("SELECT \"a;b\" FROM t").size());
        assertEquals(1, SqlText.statements("SELECT 1 -- ; x\n").size());
        assertEquals(2, SqlText.statements("SELECT 1 /* ; */ ; SELECT 2").size());
        assertEquals(1, SqlText.statements("SELECT [a;b] FROM t; ;").size());
        assertEquals(2, SqlText.statements("SELECT 1 -- a\n; SELECT 2").size());
    }

    @org.junit.jupiter.api.Test
    void normalizesSpaceOutsideStrings() {
        assertEquals("SELECT count(*) FROM head WHERE age > 56 AND name = 'a  b'",
                SqlText.normalizeSpace("SELECT count(*)  FROM head\n WHERE age  >  56 AND name = 'a  b' ;"));
    }
}
