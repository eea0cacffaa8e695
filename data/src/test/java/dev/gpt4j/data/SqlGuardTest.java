package dev.gpt4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
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

    /** Every refusal this test knows, with its reason: the table below, then each forbidden function in each form. */
    static Stream<Arguments> refusals() {
        List<Arguments> out = new ArrayList<>();
        for (String row : REFUSED) {
            int bar = row.lastIndexOf('|');
            out.add(Arguments.of(row.substring(0, bar), row.substring(bar + 1)));
        }
        for (String fn : FORBIDDEN_FUNCTIONS) {
            for (String form : FUNCTION_FORMS) {
                out.add(Arguments.of(form.replace("{f}", fn).replace("{F}", fn.toUpperCase(Locale.ROOT)), "function " + fn + "() is not allowed"));
            }
        }
        return out.stream();
    }

    static final List<String> REFUSED = List.of(
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
        "PRAGMA query_only = 0|PRAGMA is not a read-only query",
        "PRAGMA query_only = 0; DELETE FROM employee|2 statements; only one query may run",
        "SELECT 1; PRAGMA query_only = 0|2 statements; only one query may run",
        "VACUUM INTO '/tmp/copy.db'|VACUUM is not a read-only query",
        "SELECT * FROM employee; VACUUM|2 statements; only one query may run",
        "WITH t AS (SELECT 1) INSERT INTO department (name) SELECT 'x' FROM t|INSERT inside a query is not allowed",
        "WITH t AS (SELECT 1) UPDATE employee SET salary = 0|UPDATE inside a query is not allowed");

    /**
     * SQLite's functions that load code or touch files, as SqlGuard lists them: load_extension and fts3_tokenizer
     * (which can register a tokenizer by pointer) are in sqlite-jdbc's build ({@link #theDriversDangerousFunctionsAreRefused});
     * readfile, writefile, edit, zipfile and sqlar_* come with the sqlite3 shell and are refused in case a build adds them.
     */
    static final List<String> FORBIDDEN_FUNCTIONS = List.of("load_extension", "fts3_tokenizer", "readfile", "writefile", "edit", "zipfile",
            "sqlar_compress", "sqlar_uncompress");

    /** {f} is the function's name ({F} in upper case): called, nested, in FROM, and spelled as SQLite also accepts it. */
    static final List<String> FUNCTION_FORMS = List.of(
            "SELECT {f}('/tmp/gpt4j-guard-test', 'x')",
            "SELECT {F} ('/tmp/gpt4j-guard-test')",
            "SELECT name FROM employee WHERE name = {f}('/tmp/gpt4j-guard-test')",
            "SELECT * FROM {f}('/tmp/gpt4j-guard-test')",
            "SELECT (SELECT {f}(name) FROM employee LIMIT 1)",
            "WITH t AS (SELECT {f}('/tmp/gpt4j-guard-test', 'x') AS v) SELECT v FROM t",
            "SELECT {f}/* a comment */('/tmp/gpt4j-guard-test')",
            "SELECT {f}\n('/tmp/gpt4j-guard-test')",
            "SELECT \"{f}\"('/tmp/gpt4j-guard-test')",
            "SELECT [{f}]('/tmp/gpt4j-guard-test')",
            "SELECT `{F}`('/tmp/gpt4j-guard-test')");

    @ParameterizedTest
    @MethodSource("refusals")
    void refusesWithReason(String sql, String reason) {
        SqlCheck c = SqlGuard.check(sql == null ? "" : sql);
        assertFalse(c.allowed(), () -> sql + " was allowed");
        assertEquals(reason, c.reason());
    }

    /** The forbidden names that occur in sqlite-jdbc's own function and module lists: each is refused, in every form. */
    @Test
    void theDriversDangerousFunctionsAreRefused() throws Exception {
        Set<String> present = new TreeSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite::memory:"); Statement st = c.createStatement()) {
            for (String q : List.of("SELECT name FROM pragma_function_list", "SELECT name FROM pragma_module_list")) {
                try (ResultSet rs = st.executeQuery(q)) {
                    while (rs.next()) {
                        String name = rs.getString(1).toLowerCase(Locale.ROOT);
                        if (FORBIDDEN_FUNCTIONS.contains(name) || name.startsWith("sqlar") || name.equals("fsdir") || name.equals("lsdir")) present.add(name);
                    }
                }
            }
        }
        assertTrue(present.containsAll(List.of("load_extension", "fts3_tokenizer")), "this build of sqlite-jdbc has " + present);
        for (String fn : present) {
            for (String form : FUNCTION_FORMS) {
                String sql = form.replace("{f}", fn).replace("{F}", fn.toUpperCase(Locale.ROOT));
                SqlCheck check = SqlGuard.check(sql);
                assertFalse(check.allowed(), sql + " was allowed");
            }
        }
    }

    /**
     * Every refused query goes through {@code queryUntrusted} on a copy of a real database (examples/employees.db):
     * each is refused by the guard with its reason, and the file's bytes and its folder are unchanged.
     */
    @Test
    void refusedQueriesLeaveARealDatabaseUntouched(@TempDir Path dir) throws Exception {
        Path db = Files.copy(Path.of("..", "examples", "employees.db"), dir.resolve("employees.db"));
        byte[] before = Files.readAllBytes(db);
        List<String> wrong = new ArrayList<>();
        int n = 0;
        try (SqliteDatabase d = SqliteDatabase.open(db)) {
            for (Arguments a : refusals().toList()) {
                String sql = (String) a.get()[0], reason = (String) a.get()[1];
                n++;
                try {
                    d.queryUntrusted(sql);
                    wrong.add(sql + " -> ran");
                } catch (SqlExecutionException e) {
                    if (e.kind() != SqlExecutionException.Kind.REFUSED || !e.getMessage().equals(reason)) wrong.add(sql + " -> " + e.kind() + ": " + e.getMessage());
                }
            }
            assertEquals(14L, d.query("SELECT count(*) FROM employee").rows().get(0).get(0));
        }
        assertArrayEquals(before, Files.readAllBytes(db), "the database file changed");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(db), files.toList(), "files appeared beside the database");
        }
        assertFalse(Files.exists(Path.of("/tmp/gpt4j-guard-test")));
        assertTrue(n > 100, n + " refusals");
        assertEquals(List.of(), wrong, "not refused by the guard with the expected reason");
    }

    /**
     * The second wall: the same queries without the guard ({@code query}), and {@code PRAGMA query_only = 0} (which
     * does turn query_only off) followed by writes, still change nothing: the file is opened read-only and immutable,
     * and no other database may be attached (VACUUM INTO, which attaches its target, would write a copy anywhere).
     */
    @Test
    void withoutTheGuardTheReadOnlyConnectionStillHolds(@TempDir Path dir) throws Exception {
        Path db = Files.copy(Path.of("..", "examples", "employees.db"), dir.resolve("employees.db"));
        byte[] before = Files.readAllBytes(db);
        try (SqliteDatabase d = SqliteDatabase.open(db)) {
            assertEquals(1L, d.query("PRAGMA query_only").rows().get(0).get(0));
            for (Arguments a : refusals().toList()) {
                String sql = ((String) a.get()[0]).replace("/tmp/", dir + "/"); // files they would write land beside the database
                if (sql.isBlank()) continue;
                if (sql.startsWith("PRAGMA query_only")) continue; // below
                try {
                    d.query(sql);
                } catch (SqlExecutionException e) {
                    // refused by SQLite: fine (the file is compared below)
                }
            }
            try {
                d.query("PRAGMA query_only = 0");
            } catch (SqlExecutionException e) {
                // a PRAGMA that sets gives no rows: the driver may complain after running it
            }
            assertEquals(0L, d.query("PRAGMA query_only").rows().get(0).get(0), "query_only is off now");
            for (String write : List.of("DELETE FROM employee", "UPDATE employee SET salary = 0", "INSERT INTO department (name) VALUES ('x')",
                    "DROP TABLE project", "CREATE TABLE x (a)", "VACUUM", "PRAGMA user_version = 7",
                    "ATTACH DATABASE '" + dir.resolve("other.db") + "' AS other", "VACUUM INTO '" + dir.resolve("copy.db") + "'")) {
                // query() wants rows, so it throws even after a write that ran: the content and the bytes are what count
                assertThrows(SqlExecutionException.class, () -> d.query(write), write);
            }
            assertEquals(List.of(14L, 0L, 3L), d.query("SELECT (SELECT count(*) FROM employee), (SELECT count(*) FROM employee WHERE salary = 0),"
                    + " (SELECT count(*) FROM sqlite_master)").rows().get(0));
            assertEquals(0L, d.query("PRAGMA user_version").rows().get(0).get(0));
        }
        assertArrayEquals(before, Files.readAllBytes(db), "the database file changed");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(db), files.toList(), "files appeared beside the database");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT FROM WHERE", "SELECT (1", "SELECT name FROM singer WHERE"})
    void refusesWhatDoesNotParse(String sql) {
        SqlCheck c = SqlGuard.check(sql);
        assertFalse(c.allowed());
        assertTrue(c.reason().startsWith("does not parse: "), c.reason());
    }

    @Test
    void splitsStatementsOutsideStringsAndComments() {
        assertEquals(1, SqlText.statements("SELECT 'it''s; fine'").size());
        assertEquals(1, SqlText.statements("SELECT \"a;b\" FROM t").size());
        assertEquals(1, SqlText.statements("SELECT 1 -- ; x\n").size());
        assertEquals(2, SqlText.statements("SELECT 1 /* ; */ ; SELECT 2").size());
        assertEquals(1, SqlText.statements("SELECT [a;b] FROM t; ;").size());
        assertEquals(2, SqlText.statements("SELECT 1 -- a\n; SELECT 2").size());
    }

    @Test
    void normalizesSpaceOutsideStrings() {
        assertEquals("SELECT count(*) FROM head WHERE age > 56 AND name = 'a  b'",
                SqlText.normalizeSpace("SELECT count(*)  FROM head\n WHERE age  >  56 AND name = 'a  b' ;"));
    }
}
