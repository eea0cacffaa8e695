package dev.gpt4j.sql;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.Schema;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What a web service needs of {@link TextToSql}: each answer's tokens as they are written, and its time split. */
class TextToSqlStreamingTest {

    @Test
    void streamsEachQuestionsTokensAndSplitsItsTime() {
        Schema schema = DdlSchemas.parse(Fixtures.DDL, "t", "t");
        List<String> questions = List.of("How many singers are there?", "List the names", "Which concerts?");
        try (GptModel m = Fixtures.model(128, 5)) {
            TextToSql t2s = new TextToSql(m, Fixtures.tokenizer());
            // no fallback: what was streamed is then the answer, unless it was cut back
            t2s.options(TextToSql.Options.defaults().withDecoding(Decoding.DEFAULT.withBatchSize(2).withFallbackBeam(0)));
            List<List<Integer>> heard = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            List<SqlAnswer> streamed = t2s.askAll(List.of(schema, schema, schema), questions, (seq, tok) -> heard.get(seq).add(tok));
            List<SqlAnswer> plain = t2s.askAll(List.of(schema, schema, schema), questions);
            for (int i = 0; i < questions.size(); i++) {
                SqlAnswer a = streamed.get(i);
                assertEquals(plain.get(i).sql(), a.sql(), "the listener changes nothing");
                int[] toks = heard.get(i).stream().mapToInt(Integer::intValue).toArray();
                String text = t2s.tokenizer().decode(toks).strip();
                if (a.cut()) assertTrue(text.startsWith(a.sql()), text + " / " + a.sql());
                else assertEquals(a.sql(), text, "question " + i);
                assertTrue(a.prefillNanos() > 0 && a.decodeNanos() > 0, a.toString());
            }
            // the two answers of one batch share its decode time; the third was decoded alone
            assertEquals(streamed.get(0).decodeNanos(), streamed.get(1).decodeNanos());
        }
    }
}
