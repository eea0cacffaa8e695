package dev.gpt4j.sql;

import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.inference.Generation;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.Spider;
import dev.gpt4j.data.SpiderExample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TextToSqlTest {

    @Test
    void loadsAModelDirectoryAndAnswersConsistently(@TempDir Path dir) throws Exception {
        try (GptModel m = Fixtures.model(128, 5)) {
            m.save(dir);
        }
        Fixtures.tokenizer().save(dir);
        try (TextToSql t2s = TextToSql.load(dir)) {
            SqlAnswer a = t2s.ask(Fixtures.DDL, "How many singers are there?");
            Schema schema = DdlSchemas.parse(Fixtures.DDL, "t", "t");
            int[] prompt = new PromptFormat(t2s.tokenizer()).prompt(schema, "How many singers are there?", 128, 42);
            assertEquals(prompt.length, a.promptTokens());
            assertTrue(a.sqlTokens() <= 128 - prompt.length, a.toString());
            assertEquals(a.sql().strip(), a.sql());
            assertEquals(dev.gpt4j.data.SqlGuard.check(a.sql()).allowed(), a.safe());
            // constrained by default: the answer stays on the schema
            assertTrue(SqlConstraint.viable(a.sql(), SchemaNames.of(schema)), a.sql());
            // batched answers are the single answers, constrained or free
            for (SqlRules rules : List.of(SqlRules.CONSTRAINED, SqlRules.FREE)) {
                t2s.options(TextToSql.Options.defaults().withRules(rules));
                SqlAnswer first = t2s.ask(schema, "How many singers are there?"), third = t2s.ask(schema, "Which concerts?");
                t2s.options(t2s.options().withDecoding(Decoding.DEFAULT.withBatchSize(2)));
                List<SqlAnswer> all = t2s.askAll(List.of(schema, schema, schema),
                        List.of("How many singers are there?", "List the names", "Which concerts?"));
                assertEquals(first.sql(), all.get(0).sql(), rules.toString());
                assertEquals(third.sql(), all.get(2).sql(), rules.toString());
            }
            assertThrows(IllegalArgumentException.class, () -> t2s.ask(schema, "  "));
        }
    }

    /**
     * A constrained answer that ran out of tokens is cut back to its longest prefix that was a complete query;
     * one that ended, or an unconstrained one, is kept whole.
     */
    @Test
    void answersThatDoNotEndAreCutToTheLastCompleteQuery() {
        Schema schema = DdlSchemas.parse(Fixtures.DDL, "t", "t");
        var tok = Fixtures.tokenizer();
        SqlConstraint c = new SqlConstraint(tok, schema);
        int end = tok.specialTokenId(dev.gpt4j.tokenizer.BpeTokenizer.END_OF_TEXT);
        int[] ids = tok.encode("SELECT name FROM singer WHERE age > 3 AND name");
        int n = TextToSql.completePrefix(c, 0, ids, Generation.StopReason.MAX_TOKENS, end);
        assertEquals("SELECT name FROM singer WHERE age > 3", tok.decode(java.util.Arrays.copyOf(ids, n)).strip());
        assertEquals(ids.length, TextToSql.completePrefix(c, 0, ids, Generation.StopReason.STOP_TOKEN, end), "it ended: keep it");
        assertEquals(ids.length, TextToSql.completePrefix(null, 0, ids, Generation.StopReason.MAX_TOKENS, end), "unconstrained");
        int[] partial = tok.encode("SELECT name FROM sing");
        n = TextToSql.completePrefix(c, 0, partial, Generation.StopReason.MAX_TOKENS, end);
        assertEquals(partial.length, n, "no prefix is complete: a query needs a table");
        int[] never = tok.encode("SELECT (");
        assertEquals(never.length, TextToSql.completePrefix(c, 0, never, Generation.StopReason.MAX_TOKENS, end), "no complete prefix");
    }

    @Test
    void missingDirectoryOrFileIsNamed(@TempDir Path dir) throws Exception {
        Path nowhere = dir.resolve("nope");
        var e = assertThrows(IllegalArgumentException.class, () -> TextToSql.load(nowhere));
        assertTrue(e.getMessage().contains(nowhere.toString()), e.getMessage());
        Files.writeString(dir.resolve("config.json"), "{}");
        e = assertThrows(IllegalArgumentException.class, () -> TextToSql.load(dir));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    /** Beam candidates: ranked, distinct, the first is askAll's answer; a width of 1 is greedy; ask(accept) takes the first accepted. */
    @Test
    void beamCandidatesAreRankedAndChosenFrom() {
        Schema schema = DdlSchemas.parse(Fixtures.DDL, "t", "t");
        try (GptModel m = Fixtures.model(128, 11)) { // a seed whose beam candidates differ in more than trailing white space
            TextToSql t2s = new TextToSql(m, Fixtures.tokenizer());
            String q = "How many singers are there?";
            t2s.options(TextToSql.Options.defaults().withDecoding(Decoding.DEFAULT.withGeneration(GenerationOptions.greedy(24)).withFallbackBeam(0)));
            SqlAnswer greedy = t2s.ask(schema, q);
            assertEquals(List.of(greedy.sql()), t2s.candidates(schema, q).stream().map(SqlAnswer::sql).toList());
            t2s.options(t2s.options().withDecoding(t2s.options().decoding().withBeam(3)));
            List<SqlAnswer> beam = t2s.candidates(schema, q);
            assertTrue(beam.size() >= 2 && beam.size() <= 3, beam.toString()); // candidates with the same SQL count once
            assertEquals(beam.size(), beam.stream().map(SqlAnswer::sql).distinct().count(), beam.toString());
            assertEquals(beam.get(0).sql(), t2s.askAll(List.of(schema), List.of(q)).get(0).sql());
            for (SqlAnswer a : beam) assertTrue(SqlConstraint.viable(a.sql(), SchemaNames.of(schema)), a.sql());
            // ask with a check: greedy's answer if it passes, else the first other candidate that passes, else greedy's
            assertEquals(greedy.sql(), t2s.ask(schema, q, a -> true).sql());
            assertEquals(greedy.sql(), t2s.ask(schema, q, a -> false).sql());
            String other = beam.stream().map(SqlAnswer::sql).filter(x -> !x.equals(greedy.sql())).reduce((x, y) -> y).orElseThrow();
            assertEquals(other, t2s.ask(schema, q, a -> a.sql().equals(other)).sql());
            assertThrows(IllegalArgumentException.class, () -> Decoding.DEFAULT.withBeam(0));
        }
    }

    /**
     * The fallback beam, on the shipped model and Spider dev's first questions (a random model never writes a
     * complete query): an answer that never became a complete query is replaced by the first complete candidate of
     * a beam of that width, if one is; complete answers stay as they are.
     */
    @Test
    void aFallbackBeamAnswersWhereGreedyFoundNoCompleteQuery() {
        Path shipped = Path.of("..", "models", "gpt4j-sql"); // tests run in the module's folder
        Spider spider = Spider.open(Fixtures.dataDir("spider").resolve("spider"));
        List<SpiderExample> ex = spider.examples("dev").subList(0, 40);
        List<Schema> schemas = ex.stream().map(e -> spider.schema(e.dbId())).toList();
        List<String> questions = ex.stream().map(SpiderExample::question).toList();
        try (TextToSql t2s = TextToSql.load(shipped)) {
            TextToSql.Options greedy = TextToSql.Options.defaults().withDecoding(Decoding.DEFAULT.withFallbackBeam(0));
            List<SqlAnswer> first = t2s.options(greedy).askAll(schemas, questions);
            List<SqlAnswer> withFallback = t2s.options(greedy.withDecoding(greedy.decoding().withFallbackBeam(3))).askAll(schemas, questions);
            int rescued = 0, kept = 0;
            for (int i = 0; i < ex.size(); i++) {
                String q = questions.get(i);
                if (first.get(i).complete()) {
                    assertEquals(first.get(i).sql(), withFallback.get(i).sql(), "a complete answer is kept: " + q);
                    kept++;
                    continue;
                }
                var complete = t2s.options(greedy.withDecoding(greedy.decoding().withBeam(3))).candidates(schemas.get(i), q).stream().filter(SqlAnswer::complete).findFirst();
                assertEquals(complete.map(SqlAnswer::sql).orElse(first.get(i).sql()), withFallback.get(i).sql(), q);
                if (complete.isPresent()) {
                    SqlAnswer a = withFallback.get(i);
                    assertTrue(a.complete() && a.parses() && SqlConstraint.complete(a.sql(), SchemaNames.of(schemas.get(i))), a.toString());
                    rescued++;
                }
            }
            assertTrue(rescued > 0 && kept > 0, rescued + " rescued, " + kept + " kept: the test needs both");
        }
        assertThrows(IllegalArgumentException.class, () -> Decoding.DEFAULT.withFallbackBeam(-1));
    }

    /**
     * Options are checked where they are made, once, with one message each: a rule on top of constrained decoding
     * without it, a beam or batch below 1, a negative fallback beam. The defaults are gpt4j ask's.
     */
    @Test
    void optionsAreCheckedWhereTheyAreMade() {
        assertEquals("--values-from-question needs constrained decoding",
                assertThrows(IllegalArgumentException.class, () -> new SqlRules(false, true, false, false)).getMessage());
        assertEquals("--link-tables needs constrained decoding",
                assertThrows(IllegalArgumentException.class, () -> SqlRules.FREE.withLinkTables(true)).getMessage());
        assertEquals("--one-condition-per-column needs constrained decoding",
                assertThrows(IllegalArgumentException.class, () -> SqlRules.FREE.withOneConditionPerColumn(true)).getMessage());
        assertEquals("--beam must be >= 1, got 0", assertThrows(IllegalArgumentException.class, () -> Decoding.DEFAULT.withBeam(0)).getMessage());
        assertEquals("--batch-size must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> Decoding.DEFAULT.withBatchSize(0)).getMessage());
        assertEquals("--fallback-beam must be >= 0, got -1",
                assertThrows(IllegalArgumentException.class, () -> Decoding.DEFAULT.withFallbackBeam(-1)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SqlConstraint(Fixtures.tokenizer(), List.of(DdlSchemas.parse(Fixtures.DDL, "t", "t")),
                null, SqlRules.FREE), "a constraint is constrained decoding");
        TextToSql.Options d = TextToSql.Options.defaults();
        assertEquals(new TextToSql.Options(new Decoding(GenerationOptions.greedy(128), 8, 1, 4), SqlRules.CONSTRAINED), d);
    }

    /** The execution guide's check: safe, runs, and returns a non-null value. */
    @Test
    void findsValueNeedsARowWithAValue() {
        try (var db = dev.gpt4j.data.SqliteDatabase.inMemory("test db", java.time.Duration.ofSeconds(2), 1, c -> {
            try (var st = c.createStatement()) {
                st.execute("CREATE TABLE t (x INT, y INT)");
                st.execute("INSERT INTO t VALUES (1, NULL), (2, NULL)");
            }
        })) {
            assertTrue(Evaluator.findsValue(answer("SELECT x FROM t WHERE x = 2"), db));
            assertTrue(Evaluator.findsValue(answer("SELECT x, y FROM t"), db));
            assertFalse(Evaluator.findsValue(answer("SELECT nope FROM t"), db), "an error");
            assertFalse(Evaluator.findsValue(answer("SELECT x FROM t WHERE x > 5"), db), "no row");
            assertFalse(Evaluator.findsValue(answer("SELECT max(y) FROM t"), db), "only NULL");
            assertFalse(Evaluator.findsValue(answer("DELETE FROM t"), db), "unsafe");
            assertEquals(2L, db.query("SELECT count(*) FROM t").rows().get(0).get(0), "the DELETE was not run");
        }
    }

    private static SqlAnswer answer(String sql) {
        return new SqlAnswer(sql, dev.gpt4j.data.SqlGuard.parses(sql), dev.gpt4j.data.SqlGuard.check(sql), 1, 1, 0,
                Generation.StopReason.STOP_TOKEN, false);
    }
}
