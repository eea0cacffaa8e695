package dev.gpt4j.inference;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqlGuard;
import dev.gpt4j.tokenizer.BpeTokenizer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

class SqlConstraintTest {
    static final Schema SCHEMA = DdlSchemas.parse(Fixtures.DDL + "\nCREATE TABLE \"big table\" (\"No.\" INT, \"first name\" TEXT);",
            "test", "concerts");
    static final TreeSet<String> NAMES = new TreeSet<>(SqlConstraint.allowedNames(SCHEMA));
    static final TreeSet<String> QUOTED = SqlConstraint.schemaNames(SCHEMA);

    @Test
    void acceptsPrefixesOfQueriesOverTheSchema() {
        for (String s : List.of("", "SEL", "SELECT", "SELECT na", "SELECT name , count(*) FROM singer GROUP BY coun",
                "SELECT T1.concert_name FROM concert AS T1 JOIN singer AS T2 ON T1.singer_id = T2.singer_id",
                "SELECT name FROM singer WHERE country = 'Any text: table xyz",
                "SELECT \"first na", "SELECT \"No.\" FROM \"big table\" WHERE \"first name\" = 'x'",
                "SELECT count(*) FROM singer AS anything WHERE anything.age > 3.5",
                "SELECT avg(age) FROM (SELECT age FROM singer", "SELECT t")) {
            assertTrue(SqlConstraint.viable(s, NAMES, QUOTED), s);
        }
    }

    @Test
    void refusesUnknownNamesAndUnbalancedParentheses() {
        for (String s : List.of("SELECT salary ", "SELECT name FROM singers ", "SELECT name FROM singer WHERE nam = 1",
                "SELECT \"first nom", "SELECT \"last name\"", "SELECT \"coalesce\" FROM singer", "SELECT \"By", "SELECT count(*)) ", "SELECT xq", "FROM employees")) {
            assertFalse(SqlConstraint.viable(s, NAMES, QUOTED), s);
        }
    }

    @Test
    void endsOnlyAfterAWholeNameAndAQueryThatParses() {
        assertTrue(SqlConstraint.complete("SELECT name FROM singer", NAMES, QUOTED));
        assertFalse(SqlConstraint.complete("SELECT name FROM sing", NAMES, QUOTED), "the start of a table name is not one");
        assertFalse(SqlConstraint.complete("SELECT name FROM singer WHERE", NAMES, QUOTED), "does not parse");
        assertFalse(SqlConstraint.complete("SELECT name FROM singer WHERE name = 'a", NAMES, QUOTED), "open string");
        assertTrue(SqlConstraint.complete("SELECT \"No.\" FROM \"big table\"", NAMES, QUOTED));
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
                    assertTrue(SqlConstraint.viable(g.text(), NAMES, QUOTED), g.text());
                    if (g.stopReason() == Generation.StopReason.STOP_TOKEN) {

                        assertTrue(SqlGuard.check(g.text()).allowed(), g.text());
                    }
                    if (seed == 1 && o.temperature() == 0) {
                        assertFalse(SqlConstraint.viable(free.text(), NAMES, QUOTED), "the unconstrained text should stray: " + free.text());
                    }
                }
            }
        }
    }
}
