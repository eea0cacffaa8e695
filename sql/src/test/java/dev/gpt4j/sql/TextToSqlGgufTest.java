package dev.gpt4j.sql;

import dev.gpt4j.core.GgufModelFiles;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.gguf.GgmlType;
import dev.gpt4j.core.quant.QuantType;
import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.data.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** TextToSql.load takes a GGUF file: the model and the tokenizer (with the prompt's special tokens) from one file. */
class TextToSqlGgufTest {
    static final List<String> QUESTIONS = List.of("How many singers are there?", "List the names of singers older than 30",
            "Which concerts did each singer give?");

    @Test
    void aGgufFileAnswersAsTheModelFolderItWasWrittenFrom(@TempDir Path dir) throws Exception {
        Path folder = dir.resolve("m"), f32 = dir.resolve("m-f32.gguf"), q8 = dir.resolve("m-q8_0.gguf");
        try (GptModel m = Fixtures.model(128, 5)) {
            m.save(folder);
            GgufModelFiles.save(m, Fixtures.tokenizer(), f32, GgmlType.F32);
            GgufModelFiles.save(m, Fixtures.tokenizer(), q8, GgmlType.Q8_0);
        }
        Fixtures.tokenizer().save(folder);
        Schema schema = DdlSchemas.parse(Fixtures.DDL, "t", "t");
        List<Schema> schemas = List.of(schema, schema, schema);
        // short answers: an untrained model never ends a query, and constrained decoding of long ones is slow
        TextToSql.Options free = new TextToSql.Options(Decoding.DEFAULT.withGeneration(GenerationOptions.greedy(12)).withFallbackBeam(0), SqlRules.FREE);
        TextToSql.Options constrained = free.withRules(SqlRules.CONSTRAINED);
        try (TextToSql fromFolder = TextToSql.load(folder); TextToSql fromGguf = TextToSql.load(f32); TextToSql quantized = TextToSql.load(q8)) {
            assertEquals(fromFolder.tokenizer().specialTokens(), fromGguf.tokenizer().specialTokens());
            for (TextToSql.Options o : List.of(free, constrained)) {
                List<String> a = fromFolder.options(o).askAll(schemas, QUESTIONS).stream().map(SqlAnswer::sql).toList();
                List<String> b = fromGguf.options(o).askAll(schemas, QUESTIONS).stream().map(SqlAnswer::sql).toList();
                assertEquals(a, b, "F32 GGUF and folder, " + o);
            }
            assertEquals(4 * quantized.model().config().layers(), quantized.model().packedWeights().size());
            quantized.model().packedWeights().values().forEach(q -> assertEquals(QuantType.Q8_0, q.type()));
            SqlAnswer q = quantized.options(constrained).ask(schema, QUESTIONS.get(0));
            assertTrue(SqlConstraint.viable(q.sql(), SchemaNames.of(schema)), q.sql());
        }
        Path text = Files.writeString(dir.resolve("notes.txt"), "not a model");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TextToSql.load(text));
        assertEquals(text + " is neither a model folder nor a GGUF file", e.getMessage());
    }
}
