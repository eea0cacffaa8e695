package dev.gpt4j.sql;

import dev.gpt4j.inference.Generator;
import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.inference.Generation;
import dev.gpt4j.inference.TokenConstraint;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqlGuard;
import dev.gpt4j.tokenizer.BpeTokenizer;
import org.junit.jupiter.api.Test;

import dev.gpt4j.data.Spider;
import java.util.Set;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SqlConstraintTest {
    static final Schema SCHEMA = DdlSchemas.parse(Fixtures.DDL + "\nCREATE TABLE \"big table\" (\"No.\" INT, \"first name\" TEXT);",
            "test", "concerts");
    static final SchemaNames NAMES = SchemaNames.of(SCHEMA);

    @Test
    void acceptsPrefixesOfQueriesOverTheSchema() {
        for (String s : List.of("", "SEL", "SELECT", "SELECT na", "SELECT name , count(*) FROM singer GROUP BY coun",
                "SELECT T1.concert_name FROM concert AS T1 JOIN singer AS T2 ON T1.singer_id = T2.singer_id",
                "SELECT name FROM singer WHERE country = 'Any text: table xyz",
                "SELECT \"first na", "SELECT \"No.\" FROM \"big table\" WHERE \"first name\" = 'x'",
                "SELECT count(*) FROM singer AS T1 WHERE T1.age > 3.5",
                "SELECT avg(age) FROM (SELECT age FROM singer", "SELECT t")) {
            assertTrue(SqlConstraint.viable(s, NAMES), s);
        }
    }

    @Test
    void refusesUnknownNamesAndUnbalancedParentheses() {
        for (String s : List.of("SELECT salary ", "SELECT name FROM singers ", "SELECT name FROM singer WHERE nam = 1",
                "SELECT \"first nom", "SELECT \"last name\"", "SELECT \"coalesce\" FROM singer", "SELECT \"By", "SELECT count(*)) ", "SELECT xq", "FROM employees",
                "SELECT name FROM cast ", "SELECT name FROM name ", "SELECT name FROM sing ", "SELECT name FROM 'singer'", "SELECT T1.concert ",
                "SELECT T1.singer ", "SELECT count.name", "SELECT T1.'x'", "SELECT name FROM singer AS T1 JOIN cou",
                "SELECT name FROM singer\uFFFD", "SELECT name FROM singer ?", "SELECT name FROM singer WHERE age > 3 :")) {
            assertFalse(SqlConstraint.viable(s, NAMES), s);
        }
    }

    @Test
    void namesChangeCaseOnlyWhereTheSchemaDoes() {
        SchemaNames n = SchemaNames.of(Schema.fromDdl(
                "CREATE TABLE singer_in_concert (concert_id INT, singer_id INT);\nCREATE TABLE Pets (PetType TEXT, CountryId INT, capacity INT);"));
        for (String ok : List.of("SELECT count(*) FROM singer_in_concert", "SELECT count(*) FROM SINGER_IN_CONCERT", "Select count(*) From Singer_In_Concert",
                "SELECT PetType FROM Pets", "SELECT petType FROM pets", "SELECT pettype , countryId FROM PETS", "SELECT T1.CountryId FROM Pets AS T1",
                "SELECT Capacity FROM Pets", "SELECT count(*) FROM singer_in_c", "SELECT max(capacity) FROM Pets WHERE PetType = 'Dog'")) {
            assertTrue(SqlConstraint.viable(ok, n), ok);
        }
        for (String bad : List.of("SELECT count(*) FROM singer_in_cON", "SELECT count(*) FROM singer_in_cONcert", "SELECT capaCIty FROM Pets",
                "SELECT SInger_id FROM singer_in_concert", "SELECT count(*) FROM Pets AS tOTal")) {
            assertFalse(SqlConstraint.viable(bad, n), bad);
        }
        assertTrue(SqlConstraint.viable("SELECT CountryID FROM Pets", n), "a lower-case letter may be followed by a capital where the name has one");
    }

    @Test
    void noEndAfterAKeywordThatNeedsMore() {
        for (String bad : List.of("SELECT count(*) FROM singer ORDER", "SELECT count(*) FROM singer GROUP", "SELECT name FROM singer WHERE",
                "SELECT name FROM singer AS", "SELECT name FROM singer WHERE age > 3 AND", "SELECT name FROM singer  order  ")) {
            assertFalse(SqlConstraint.complete(bad, NAMES), bad);
        }
        for (String ok : List.of("SELECT count(*) FROM singer", "SELECT name FROM singer ORDER BY age DESC", "SELECT name FROM singer ORDER BY age ASC",
                "SELECT \"first name\" FROM \"big table\"")) {
            assertTrue(SqlConstraint.complete(ok, NAMES), ok);
        }
    }

    @Test
    void aTableOutsideFromAndJoinQualifiesAColumn() {
        assertFalse(SqlConstraint.viable("SELECT name FROM singer WHERE concert =", NAMES));
        assertFalse(SqlConstraint.viable("SELECT name FROM singer WHERE \"big table\" = 'x'", NAMES));
        assertFalse(SqlConstraint.complete("SELECT name FROM singer WHERE age > 1 AND singer", NAMES));
        assertTrue(SqlConstraint.viable("SELECT singer.name FROM singer WHERE singer.age > 1", NAMES));
        assertTrue(SqlConstraint.complete("SELECT count(*) FROM singer", NAMES));
    }

    @Test
    void noSetOperationAfterOrderByOrLimit() {
        for (String bad : List.of("SELECT name FROM singer ORDER BY age LIMIT 1 UNION", "SELECT name FROM singer ORDER BY age UNION",
                "SELECT name FROM singer ORDER BY age DESC EXCEPT", "SELECT name FROM singer LIMIT 3 INTERSECT")) {
            assertFalse(SqlConstraint.viable(bad, NAMES), bad);
        }
        for (String ok : List.of("SELECT name FROM singer UNION SELECT name FROM singer ORDER BY name LIMIT 1",
                "SELECT name FROM singer WHERE singer_id IN (SELECT singer_id FROM singer ORDER BY age LIMIT 1) UNION SELECT name FROM singer",
                "SELECT name FROM singer ORDER BY age LIMIT 1 OFFSET 2")) {
            assertTrue(SqlConstraint.viable(ok, NAMES), ok);
        }
    }

    @Test
    void noValueRightAfterATableAndNoEndInsideAQuote() {
        assertFalse(SqlConstraint.viable("SELECT count(*) FROM singer'", NAMES));
        assertFalse(SqlConstraint.viable("SELECT count(*) FROM singer AS T1 JOIN concert '", NAMES));
        assertTrue(SqlConstraint.viable("SELECT count(*) FROM singer WHERE name = 'Jo", NAMES));
        assertFalse(SqlConstraint.complete("SELECT count(*) FROM singer WHERE name = 'Jo", NAMES), "inside a string literal");
        assertFalse(SqlConstraint.complete("SELECT count(*) FROM singer WHERE name = 'Jo''", NAMES), "an escaped quote, still inside");
        assertTrue(SqlConstraint.complete("SELECT count(*) FROM singer WHERE name = 'Jo'", NAMES));
        assertFalse(SqlConstraint.complete("SELECT \"first name", NAMES), "inside a quoted name");
    }

    @Test
    void endsOnlyAfterAWholeNameAndAQueryThatParses() {
        assertTrue(SqlConstraint.complete("SELECT name FROM singer", NAMES));
        assertFalse(SqlConstraint.complete("SELECT name FROM sing", NAMES), "the start of a table name is not one");
        assertFalse(SqlConstraint.complete("SELECT name FROM singer WHERE", NAMES), "does not parse");
        assertFalse(SqlConstraint.complete("SELECT name FROM singer WHERE name = 'a", NAMES), "open string");
        assertTrue(SqlConstraint.complete("SELECT \"No.\" FROM \"big table\"", NAMES));
    }

    @Test
    void endsOnlyWhenAliasesAreDefinedAndColumnsBelongToTheirTables() {
        assertTrue(SqlConstraint.complete("SELECT T2.name FROM concert AS T1 JOIN singer AS T2 ON T1.singer_id = T2.singer_id", NAMES));
        assertTrue(SqlConstraint.complete("SELECT singer.name FROM singer JOIN concert ON singer.singer_id = concert.singer_id", NAMES));
        assertTrue(SqlConstraint.complete("SELECT count(*) AS n FROM singer ORDER BY n", NAMES));
        assertTrue(SqlConstraint.complete("SELECT name FROM singer WHERE age > (SELECT avg(age) FROM singer)", NAMES));
        assertFalse(SqlConstraint.complete("SELECT T2.name FROM concert AS T1 JOIN singer AS T1 ON T1.singer_id = T1.singer_id", NAMES),
                "T2 is never defined");
        assertFalse(SqlConstraint.complete("SELECT T1.name FROM concert AS T1", NAMES), "concert has no column name");
        assertFalse(SqlConstraint.complete("SELECT singer.concert_name FROM singer", NAMES), "singer has no column concert_name");
        assertFalse(SqlConstraint.complete("SELECT concert_name FROM singer", NAMES), "a bare column of a table the query does not use");
        // what a cut-back answer must not be: SQLite reads these as missing columns
        assertFalse(SqlConstraint.complete("SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1", NAMES), "a lone alias");
        assertFalse(SqlConstraint.viable("SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1 =", NAMES));
        assertFalse(SqlConstraint.complete("SELECT count", NAMES), "a function that is not called");
        assertFalse(SqlConstraint.viable("SELECT count FROM singer", NAMES));
        assertFalse(SqlConstraint.complete("SELECT name", NAMES), "no table");
        assertTrue(SqlConstraint.complete("SELECT T1.name FROM singer T1", NAMES), "an alias without AS");
        assertTrue(SqlConstraint.complete("SELECT count (*) FROM singer", NAMES));
    }

    /** A table's own name qualifies a column only if the query reads that table (after FROM or JOIN). */
    @Test
    void aTableQualifiesOnlyIfTheQueryReadsIt() {
        assertTrue(SqlConstraint.complete("SELECT singer.name FROM singer", NAMES));
        assertFalse(SqlConstraint.complete("SELECT singer.name FROM concert", NAMES), "SQLite: no such column singer.name");
        assertFalse(SqlConstraint.complete("SELECT count(*) FROM concert WHERE singer.name = 'Joe'", NAMES));
        assertTrue(SqlConstraint.complete("SELECT count(*) FROM concert WHERE singer_id IN (SELECT singer.singer_id FROM singer)", NAMES));
        assertFalse(SqlConstraint.complete("SELECT name FROM concert WHERE singer.singer_id = concert.singer_id", NAMES),
                "the qualifier reads no singer, so the bare name has no table");
        assertTrue(SqlConstraint.viable("SELECT singer.name FROM concert", NAMES), "it may still go on: JOIN singer ...");
    }

    /** After FROM: a table that has one of the SELECT list's bare columns, unless the list qualifies a column. */
    @Test
    void firstTableAfterFromHasAColumnOfTheList() {
        assertFalse(SqlConstraint.viable("SELECT avg(age) FROM concert ", NAMES), "age is singer's");
        assertFalse(SqlConstraint.viable("SELECT avg(age) FROM conc", NAMES), "refused while the name is written");
        assertFalse(SqlConstraint.complete("SELECT concert_name FROM singer JOIN concert ON singer.singer_id = concert.singer_id", NAMES));
        assertTrue(SqlConstraint.complete("SELECT avg(age) , country FROM singer GROUP BY country", NAMES));
        assertTrue(SqlConstraint.complete("SELECT name , concert_name FROM singer JOIN concert ON singer.singer_id = concert.singer_id", NAMES),
                "one of the list's columns is enough");
        assertTrue(SqlConstraint.complete("SELECT concert_name , T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.singer_id = T2.singer_id",
                NAMES), "a qualified column announces a join");
        assertTrue(SqlConstraint.complete("SELECT count(*) FROM concert", NAMES), "no bare column: any table");
        assertTrue(SqlConstraint.complete("SELECT name FROM singer WHERE singer_id IN (SELECT singer_id FROM concert)", NAMES),
                "a sub-query's FROM goes by its own list");
        assertFalse(SqlConstraint.viable("SELECT name FROM singer WHERE singer_id IN (SELECT age FROM concert ", NAMES));
    }

    /** An alias may not name a table that lacks a column this SELECT already qualified with it. */
    @Test
    void aliasMustFitTheColumnsItAlreadyQualified() {
        assertFalse(SqlConstraint.viable("SELECT T1.concert_name FROM singer AS T1", NAMES), "refused while it is written");
        assertFalse(SqlConstraint.viable("SELECT T1.concert_name FROM singer AS T1 ", NAMES));
        assertFalse(SqlConstraint.viable("SELECT T1.concert_name FROM singer T1 ", NAMES), "without AS too");
        assertTrue(SqlConstraint.viable("SELECT T2.concert_name FROM singer AS T1 JOIN concert AS T2", NAMES));
        assertTrue(SqlConstraint.complete("SELECT T1.name FROM singer AS T1 UNION SELECT T1.concert_name FROM concert AS T1", NAMES),
                "each SELECT goes by its own columns");
    }

    /**
     * A table alias is defined once per SELECT: "FROM department AS T2 JOIN department AS T2" (which run 4 wrote for
     * "Who earns the most?", never to define T1) is refused while the second T2 is written. Another SELECT, a
     * sub-query or a UNION's second half, may use the same alias again.
     */
    @Test
    void anAliasIsDefinedOncePerSelect() {
        // singer_id is a column of both tables, so only the second definition is wrong
        assertFalse(SqlConstraint.viable("SELECT T1.singer_id FROM singer AS T1 JOIN concert AS T1", NAMES), "refused while it is written");
        assertFalse(SqlConstraint.viable("SELECT T1.singer_id FROM singer AS T1 JOIN concert AS T1 ", NAMES));
        assertFalse(SqlConstraint.viable("SELECT T1.singer_id FROM singer T1 JOIN concert T1 ", NAMES), "without AS too");
        assertFalse(SqlConstraint.viable("SELECT name FROM singer AS s JOIN concert AS s ", NAMES), "other aliases too");
        assertTrue(SqlConstraint.viable("SELECT T1.singer_id FROM singer AS T1 JOIN concert AS T2", NAMES));
        assertTrue(SqlConstraint.complete("SELECT T1.name FROM singer AS T1 WHERE T1.singer_id IN (SELECT T1.singer_id FROM concert AS T1)",
                NAMES), "a sub-query has its own aliases");
        assertTrue(SqlConstraint.complete("SELECT T1.name FROM singer AS T1 UNION SELECT T1.concert_name FROM concert AS T1", NAMES));
        assertTrue(SqlConstraint.viable("SELECT count(*) AS n, max(age) AS m FROM singer", NAMES), "column aliases are not table aliases");
    }

    /**
     * T-style aliases come in order within a SELECT, as Spider writes them: T1 first (or one above the query's
     * largest, in a later SELECT), then T2, ... Run 4 wrote "SELECT T1.employee_id FROM department AS T2 JOIN
     * department AS T3 ... AS T4" and never defined T1. With qualified columns in the list, the first table must
     * have the columns of the first alias.
     */
    @Test
    void aliasesComeInOrderAndTheFirstTableFitsTheFirst() {
        assertFalse(SqlConstraint.viable("SELECT T1.name FROM singer AS T2", NAMES), "T2 before T1");
        assertFalse(SqlConstraint.viable("SELECT T1.name FROM singer AS T1 JOIN concert AS T3", NAMES), "T3 after T1");
        assertTrue(SqlConstraint.viable("SELECT T1.name FROM singer AS T1 JOIN concert AS T2", NAMES));
        assertTrue(SqlConstraint.complete("SELECT T1.name FROM singer AS T1 EXCEPT SELECT T2.name FROM singer AS T2", NAMES),
                "a later SELECT may go on from the largest");
        assertFalse(SqlConstraint.viable("SELECT T1.concert_name FROM singer", NAMES), "singer cannot be T1 here");
        assertTrue(SqlConstraint.viable("SELECT T1.concert_name FROM concert", NAMES));
        assertTrue(SqlConstraint.viable("SELECT T2.concert_name FROM singer", NAMES), "T2's table comes later");
        // a table's alias is T-style, as in all the fine-tuning data: run 10 wrote "JOIN flights AS T AS T2", never to end
        assertTrue(SqlConstraint.viable("SELECT T1.name FROM singer AS T", NAMES), "T1 is still being written");
        assertFalse(SqlConstraint.viable("SELECT T1.name FROM singer AS T ", NAMES), "a lone T is no alias");
        assertFalse(SqlConstraint.viable("SELECT T1.name FROM singer AS T AS", NAMES));
        assertFalse(SqlConstraint.viable("SELECT count(*) FROM singer AS anything WHERE anything.age > 3.5", NAMES));
        assertFalse(SqlConstraint.viable("SELECT count(*) FROM singer AS Tr", NAMES), "refused while written");
        assertTrue(SqlConstraint.complete("SELECT count(*) AS n FROM singer ORDER BY n", NAMES), "a column's alias is free");
        // a JOIN's table gets the next alias, so it must have the columns already qualified with it
        assertFalse(SqlConstraint.viable("SELECT T2.concert_name FROM singer AS T1 JOIN singer", NAMES), "singer has no concert_name");
        assertTrue(SqlConstraint.viable("SELECT T2.concert_name FROM singer AS T1 JOIN concert", NAMES));
        assertTrue(SqlConstraint.viable("SELECT T1.name FROM singer AS T1 JOIN singer", NAMES), "nothing qualified with T2 yet");
    }

    /** After LIMIT's number only the end, ")" or OFFSET: run 4 wrote "LIMIT 1 AND ... LIMIT 1 LIMIT 1" (and SQLite takes no UNION there). */
    @Test
    void limitEndsTheSelect() {
        assertFalse(SqlConstraint.viable("SELECT name FROM singer ORDER BY age LIMIT 1 AND", NAMES));
        assertFalse(SqlConstraint.viable("SELECT name FROM singer ORDER BY age LIMIT 1 LIMIT", NAMES));
        assertFalse(SqlConstraint.viable("SELECT name FROM singer LIMIT name", NAMES));
        assertTrue(SqlConstraint.complete("SELECT name FROM singer ORDER BY age LIMIT 1", NAMES));
        assertFalse(SqlConstraint.viable("SELECT name FROM singer ORDER BY age LIMIT 1 UNI", NAMES), "refused while written");
        assertFalse(SqlConstraint.viable("SELECT name FROM singer ORDER BY age LIMIT 1 GROUP", NAMES),
                "a clause keyword that might become a name (group_concat) is no exception");
        assertTrue(SqlConstraint.viable("SELECT name FROM singer ORDER BY age LIMIT 1 OFF", NAMES));
        assertFalse(SqlConstraint.viable("SELECT name FROM singer ORDER BY age LIMIT 1W", NAMES), "a number ends before a letter");
        assertFalse(SqlConstraint.viable("SELECT name FROM singer WHERE age > 3x", NAMES));
        assertTrue(SqlConstraint.complete("SELECT name FROM singer WHERE age > 3.5", NAMES));
        assertTrue(SqlConstraint.complete("SELECT name FROM singer WHERE age = (SELECT age FROM singer ORDER BY age LIMIT 1) AND name = 'x'",
                NAMES), "a sub-query's LIMIT ends at its )");
    }

    /**
     * Clauses in SQL's order, per parenthesis depth: no FROM inside a function's parentheses, no GROUP BY after
     * ORDER BY, no DESC outside ORDER BY, no JOIN after WHERE. All of these were in run 4's Spider answers. A
     * keyword that may not come is refused while it is written, unless a name of the schema starts with it.
     */
    @Test
    void clausesComeInOrder() {
        assertFalse(SqlConstraint.viable("SELECT avg(age) , min(age FROM", NAMES), "refused while written");
        assertFalse(SqlConstraint.viable("SELECT avg(age) , min(age FROM singer", NAMES));
        assertFalse(SqlConstraint.viable("SELECT name FROM singer ORDER BY age GROUP BY", NAMES));
        assertFalse(SqlConstraint.viable("SELECT name FROM singer GROUP BY country DESC", NAMES));
        assertFalse(SqlConstraint.viable("SELECT name FROM singer WHERE age > 3 JOIN concert", NAMES));
        assertFalse(SqlConstraint.viable("SELECT name FROM singer HAVING", NAMES), "HAVING needs GROUP BY");
        assertTrue(SqlConstraint.complete("SELECT country , count(*) FROM singer WHERE age > 3 GROUP BY country HAVING count(*) > 1 "
                + "ORDER BY count(*) DESC LIMIT 1", NAMES));
        assertTrue(SqlConstraint.complete("SELECT name FROM singer WHERE singer_id IN (SELECT singer_id FROM concert) ORDER BY age", NAMES),
                "a sub-query has its own clauses, and the outer SELECT goes on after it");
        assertTrue(SqlConstraint.complete("SELECT name FROM singer EXCEPT SELECT name FROM singer WHERE age > 3", NAMES));
    }

    /**
     * What ask printed while the constraint's promise was not held (SELECT sum(text ) FROM purchases, SELECT
     * avg(nocase) FROM books, SELECT T1.role FROM employees AS T1 JOIN employees sum("manager_id")), and kin the
     * random walks of {@link SqlConstraintPromiseTest} found: each refused where it is written, or at the end.
     */
    @Test
    void keywordsAreNoNamesAndTheEndNeedsEveryNameToResolve() {
        SchemaNames shop = SchemaNames.of(DdlSchemas.parse("CREATE TABLE books (book_id INT, title TEXT COLLATE NOCASE, year INT);\n"
                + "CREATE TABLE purchases (purchase_id INT, book_id INT, price REAL);\n"
                + "CREATE TABLE employees (employee_id INT, role TEXT, manager_id INT);\n"
                + "CREATE TABLE \"order\" (\"group\" INT, count INT, date TEXT);", "t", "t"));
        for (String bad : List.of("SELECT sum(text ", "SELECT avg(nocase)", "SELECT T1.role FROM employees AS T1 JOIN employees sum",
                "SELECT title FROM books.title", "SELECT title FROM books title", "SELECT title FROM books 3", "SELECT * title FROM books",
                "SELECT title FROM books WHERE *", "SELECT min(*", "SELECT count()", "SELECT title FROM books WHERE count(*)",
                "SELECT title FROM books ORDER BY count(", "SELECT title FROM books LIMIT 1 OFFSET 2 OFFSET", "SELECT title FROM books LIMIT 1.5",
                "SELECT then FROM books", "SELECT title FROM books natural", "SELECT title FROM books outer",
                "SELECT title FROM books ORDER title", "SELECT title FROM order", "SELECT T1.group FROM \"order\" AS T1",
                "SELECT title lower(title) FROM books", "SELECT 1993 IN books", "SELECT EXISTS (title", "SELECT title FROM books\u2002",
                "SELECT sum(total(", "SELECT sum(count(", "SELECT total(books.*", "SELECT 42 GLOB FROM ")) {
            assertFalse(SqlConstraint.viable(bad, shop), bad);
        }
        for (String bad : List.of("SELECT title FROM books right", "SELECT title FROM books LEFT", "SELECT purchase_id FROM books",
                "SELECT title FROM books WHERE book_id IN (SELECT book_id FROM purchases WHERE price > 3) AND price > 2",
                "SELECT book_id FROM books JOIN purchases", "SELECT title FROM books JOIN books",
                "SELECT avg(year) FROM (SELECT avg(year) FROM books)")) {
            assertFalse(SqlConstraint.complete(bad, shop), bad);
        }
        for (String ok : List.of("SELECT CAST(year AS text) FROM books", "SELECT title FROM books ORDER BY title COLLATE nocase",
                "SELECT count(*) FROM books", "SELECT title FROM books GROUP BY title ORDER BY count(*) DESC LIMIT 1 OFFSET 2",
                "SELECT T1.title FROM books AS T1 LEFT JOIN purchases AS T2 ON T1.book_id = T2.book_id",
                "SELECT title FROM books WHERE book_id IN (SELECT book_id FROM purchases WHERE price > 3)",
                "SELECT T1.role FROM employees AS T1 JOIN employees AS T2 ON T1.manager_id = T2.employee_id",
                "SELECT \"group\" , count , date FROM \"order\"", "SELECT count(*) FROM \"order\" WHERE date = 'x'",
                "SELECT CASE WHEN year > 2000 THEN 'new' ELSE 'old' END FROM books", "SELECT count(*) FROM (SELECT year FROM books)",
                "SELECT year FROM (SELECT * FROM books)")) {
            assertTrue(SqlConstraint.complete(ok, shop), ok);
        }
    }

    @Test
    void tablesTheQuestionNames() {
        Set<String> tables = Set.of("singer", "country", "car_makers", "stadium", "pets", "concert");
        assertEquals(Set.of("singer"), TableLinking.namedTables(tables, "How many singers do we have?"));
        assertEquals(Set.of("country", "car_makers"), TableLinking.namedTables(tables, "Which countries have car makers?"));
        assertEquals(Set.of("pets"), TableLinking.namedTables(tables, "What is the heaviest pet?"));
        assertEquals(Set.of(), TableLinking.namedTables(tables, "Who sang in concerts2?"), "whole words only");
    }

    /**
     * With linkTables, {@code prefer} adds {@link SqlConstraint#TABLE_BONUS} to the tokens that start a named table
     * where the first table after FROM comes next and no join is announced, and only there; without it, nothing.
     */
    @Test
    void preferRaisesTheNamedTableAfterFrom() {
        BpeTokenizer tok = Fixtures.tokenizer();
        List<String> q = List.of("How many singers are there?");
        SqlConstraint linked = new SqlConstraint(tok, List.of(SCHEMA), q, SqlRules.CONSTRAINED.withLinkTables(true));
        SqlConstraint plain = new SqlConstraint(tok, List.of(SCHEMA), q, SqlRules.CONSTRAINED);
        int V = tok.vocabSize();
        int singer = tok.encode(" singer")[0], concert = tok.encode(" concert")[0];
        for (String prefix : List.of("SELECT count(*) FROM", "SELECT count(*) FROM ")) {
            int[] ids = tok.encode(prefix);
            float[] logits = new float[V];
            after(linked, ids).prefer(logits);
            int first = prefix.endsWith(" ") ? tok.encode("singer")[0] : singer;
            assertEquals(SqlConstraint.TABLE_BONUS, logits[first], "after '" + prefix + "'");
            assertEquals(0f, logits[prefix.endsWith(" ") ? tok.encode("concert")[0] : concert], "concert is not named");
            float[] none = new float[V];
            after(plain, ids).prefer(none);
            assertArrayEquals(new float[V], none, "off");
        }
        // no table due; a join's second table; the first table of a SELECT whose list announces a join
        for (String prefix : List.of("SELECT count(*) FROM singer WHERE", "SELECT count(*) FROM concert AS T1 JOIN",
                "SELECT T1.name FROM", "SELECT concert_name FROM concert WHERE concert_id IN (SELECT T2.concert_id FROM")) {
            assertTrue(SqlConstraint.viable(prefix, NAMES), prefix);
            int[] ids = tok.encode(prefix);
            float[] logits = new float[V];
            after(linked, ids).prefer(logits);
            assertArrayEquals(new float[V], logits, "after '" + prefix + "'");
        }
        int[] ids = tok.encode("SELECT T1.name FROM singer AS T1 WHERE T1.age > (SELECT avg(age) FROM");
        float[] logits = new float[V];
        after(linked, ids).prefer(logits);
        assertEquals(SqlConstraint.TABLE_BONUS, logits[singer], "a nested SELECT with an unqualified list");
    }

    /** Sequence 0's state after {@code ids}. */
    static TokenConstraint.State after(TokenConstraint c, int[] ids) {
        TokenConstraint.State s = c.start(0);
        for (int t : ids) s = s.next(t);
        return s;
    }

    /**
     * With oneConditionPerColumn, a WHERE names each column once (per SELECT and qualifier), refused while the
     * repeated name is written; other clauses, nested SELECTs and the next SELECT of a set operation are free.
     */
    @Test
    void oneConditionPerColumn() {
        SchemaNames once = NAMES.withOneConditionPerColumn();
        String twice = "SELECT name FROM singer WHERE age > 20 AND age < 30";
        assertTrue(SqlConstraint.complete(twice, NAMES), "a range, without the rule");
        assertFalse(SqlConstraint.complete(twice, once));
        for (String s : List.of("SELECT name FROM singer WHERE age > 20 AND age", "SELECT name FROM singer WHERE age > 20 AND ag",
                "SELECT name FROM singer WHERE country = 'x' OR country ",
                "SELECT \"first name\" FROM \"big table\" WHERE \"No.\" = 3 AND \"No",
                "SELECT \"first name\" FROM \"big table\" WHERE \"No.\" = 3 AND \"No.\"",
                "SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.singer_id = T2.singer_id WHERE T1.age > 3 AND T1.a")) {
            assertTrue(SqlConstraint.viable(s, NAMES), "without the rule: " + s);
            assertFalse(SqlConstraint.viable(s, once), s);
        }
        for (String s : List.of("SELECT name FROM singer WHERE age > 20 AND country = 'x'",
                "SELECT name , age FROM singer WHERE age > 20 ORDER BY age",
                "SELECT name FROM singer WHERE age > (SELECT avg(age) FROM singer WHERE age > 1) AND country = 'x'",
                "SELECT name FROM singer WHERE age > 3 UNION SELECT name FROM singer WHERE age < 2",
                "SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.singer_id = T2.singer_id WHERE T1.singer_id > 3 AND T2.singer_id < 9",
                "SELECT \"first name\" FROM \"big table\" WHERE \"No.\" = 3 AND \"first name\" = 'x'")) {
            assertTrue(SqlConstraint.complete(s, once), s);
        }
    }

    @Test
    void valuesFromTheQuestion() {
        SchemaNames q = SchemaNames.of(SCHEMA, "Which singers are from the United States?");
        String head = "SELECT name FROM singer WHERE country = ";
        assertTrue(SqlConstraint.viable(head + "'United", q));
        assertTrue(SqlConstraint.complete(head + "'united states'", q), "case does not matter");
        assertTrue(SqlConstraint.complete(head + "\"United States\"", q), "Spider's double-quoted values too");
        assertTrue(SqlConstraint.complete("SELECT name FROM singer WHERE country LIKE '%States%'", q));
        assertFalse(SqlConstraint.viable(head + "'United K", q));
        assertFalse(SqlConstraint.complete(head + "'United Stat'", q), "a value ends where a word of the question ends");
        assertFalse(SqlConstraint.viable(head + "'nited", q), "and starts where one starts");
        assertTrue(SqlConstraint.viable(head + "'United Stat", q), "a value still being written may stop inside a word");
        assertFalse(SqlConstraint.complete(head + "'ing'", q), "not a piece of 'singers'");
        SchemaNames money = SchemaNames.of(SCHEMA, "Which singers aged +7 earned over $3,000 (8.1%) in tie #26?");
        String where = "SELECT name FROM singer WHERE country = ";
        assertFalse(SqlConstraint.complete(where + "'7'", money), "'+7' is the value, not '7'");
        assertTrue(SqlConstraint.complete(where + "'+7'", money));
        for (String v : List.of("'3,000'", "'8.1'", "'8.1%'", "'26'", "'#26'")) assertTrue(SqlConstraint.complete(where + v, money), v);
        assertFalse(SqlConstraint.complete(where + "'ear%'", money), "% is a wildcard only after LIKE");
        assertTrue(SqlConstraint.complete("SELECT name FROM singer WHERE country LIKE 'ear%'", money));
        assertFalse(SqlConstraint.complete(head + "'France'", q));
        assertTrue(SqlConstraint.complete(head + "'France'", NAMES), "without a question any value goes");
        assertTrue(SqlConstraint.complete("SELECT name FROM singer WHERE age > 30", q), "numbers are not checked");
    }

    /** Constrained greedy decoding of an untrained model: every output stays viable; an ended one is a valid query. */
    @Test
    void constrainedOutputOfARandomModelStaysOnTheSchema() {
        BpeTokenizer tok = Fixtures.tokenizer();
        PromptFormat format = new PromptFormat(tok);
        for (long seed = 1; seed <= 4; seed++) {
            try (GptModel m = Fixtures.model(96, seed)) {
                Generator gen = new Generator(m, tok);
                int[] prompt = format.prompt(SCHEMA, "How many singers are there?", 96, 40);
                SqlConstraint c = new SqlConstraint(tok, SCHEMA);
                for (GenerationOptions o : List.of(GenerationOptions.greedy(40), GenerationOptions.sampled(40, 1.0, 0, 1.0, seed))) {
                    Generation free = gen.generate(List.of(prompt), o, null, 1, format.endId()).get(0);
                    Generation g = gen.generate(List.of(prompt), o, c, 1, format.endId()).get(0);
                    assertTrue(SqlConstraint.viable(g.text(), NAMES), g.text());
                    if (g.stopReason() == Generation.StopReason.STOP_TOKEN) {

                        assertTrue(SqlGuard.check(g.text()).allowed(), g.text());
                    }
                    if (seed == 1 && o.temperature() == 0) {
                        assertFalse(SqlConstraint.viable(free.text(), NAMES), "the unconstrained text should stray: " + free.text());
                    }
                }
            }
        }
    }
}
