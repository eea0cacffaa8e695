package dev.gpt4j.inference;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.DdlSchemas;
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
            // batched answers are the single answers
            t2s.options(TextToSql.Options.defaults().withBatchSize(2));
            List<SqlAnswer> all = t2s.askAll(List.of(schema, schema, schema),
                    List.of("How many singers are there?", "List the names", "Which concerts?"));
            assertEquals(a.sql(), all.get(0).sql());
            assertEquals(t2s.ask(schema, "Which concerts?").sql(), all.get(2).sql());
            // constrained: the answer stays on the schema
            t2s.options(TextToSql.Options.defaults().withConstrained(true));
            SqlAnswer c = t2s.ask(schema, "How many singers are there?");
            assertTrue(SqlConstraint.viable(c.sql(), SqlConstraint.Names.of(schema)), c.sql());
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
}
