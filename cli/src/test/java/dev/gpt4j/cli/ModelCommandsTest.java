package dev.gpt4j.cli;

import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** generate, ask and eval on an untrained model folder: the plumbing, the errors and the last line of eval. */
class ModelCommandsTest {
    static final Path DATA = Path.of(System.getProperty("gpt4j.data", "../../shared/data"));
    @TempDir
    static Path dir;
    static Path model;
    String out, err;

    @BeforeAll
    static void makeModel() {
        BpeTokenizer tok = new BpeTrainer(400, PromptFormat.SPECIAL_TOKENS).train(List.of(
                "SELECT count(*) FROM singer", "How many singers are there?", "CREATE TABLE singer (name TEXT, age INT)"));
        model = dir.resolve("m");
        try (GptModel m = GptModel.create(new GptConfig(tok.vocabSize(), 256, 32, 1, 2, 0.0, 1e-5, true, true), 1)) {
            m.save(model);
        }
        tok.save(model);
    }

    int run(String... args) {
        StringWriter o = new StringWriter(), e = new StringWriter();
        int rc = Gpt4jCommand.run(args, new PrintWriter(o), new PrintWriter(e));
        out = o.toString();
        err = e.toString();
        return rc;
    }

    @Test
    void generateIsSeededAndStopsAtMaxTokens() {
        assertEquals(0, run("generate", "--model", model.toString(), "--prompt", "SELECT", "--max-tokens", "12", "--temperature", "1",
                "--top-k", "20", "--seed", "3"), err);
        String first = out;
        assertEquals(0, run("generate", "--model", model.toString(), "--prompt", "SELECT", "--max-tokens", "12", "--temperature", "1",
                "--top-k", "20", "--seed", "3"), err);
        assertEquals(first, out);
        assertFalse(first.isBlank());
        assertEquals(1, run("generate", "--model", model.toString(), "--prompt", "x", "--top-p", "0"));
        assertTrue(err.contains("top-p") && !err.contains("\tat "), err);
    }

    @Test
    void askPrintsOneQueryLineAndErrorsAreOneLine() throws Exception {
        Path schema = Files.writeString(dir.resolve("s.sql"), "CREATE TABLE singer (name TEXT, age INT);");
        int rc = run("ask", "--model", model.toString(), "--schema", schema.toString(), "--constrained", "How many singers are there?");
        assertEquals(0, rc, err);
        assertEquals(1, out.strip().split("\n").length, out);
        assertEquals(1, run("ask", "--model", dir.resolve("none").toString(), "--schema", schema.toString(), "q?"));
        assertTrue(err.contains(dir.resolve("none").toString()) && err.strip().split("\n").length == 1, err);
        assertEquals(1, run("ask", "--model", model.toString(), "--schema", schema.toString(), "  "));
        assertTrue(err.contains("question is empty"), err);
        assertEquals(1, run("ask", "--model", model.toString(), "--schema", dir.resolve("missing.sql").toString(), "q?"));
        assertTrue(err.contains("missing.sql"), err);
        Path bad = Files.writeString(dir.resolve("bad.sql"), "CREATE TABLE (;");
        assertEquals(1, run("ask", "--model", model.toString(), "--schema", bad.toString(), "q?"));
        assertTrue(err.contains("bad.sql") && !err.contains("\tat "), err);
        assertEquals(1, run("ask", "--model", model.toString(), "--schema", schema.toString(), "--fallback-beam", "-1", "q?"));
        assertTrue(err.contains("--fallback-beam must be >= 0, got -1"), err);
        assertEquals(0, run("ask", "--model", model.toString(), "--schema", schema.toString(), "--no-constrained", "q?"), "the default fallback beam is for constrained decoding: " + err);
    }

    @Test
    void evalEndsWithTheAccuracyLine() {
        assertEquals(0, run("eval", "--model", model.toString(), "--dataset", "wikisql", "--data", DATA.resolve("wikisql").toString(),
                "--limit", "5", "--batch-size", "2"), err);
        String[] lines = out.strip().split("\n");
        assertTrue(lines[lines.length - 1].matches(".*accuracy.*\\d.*"), lines[lines.length - 1]);
        assertTrue(out.contains("5"), out);
        assertEquals(0, run("eval", "--model", model.toString(), "--dataset", "spider", "--data", DATA.resolve("spider").toString(),
                "--limit", "3", "--constrained"), err);
        lines = out.strip().split("\n");
        assertTrue(lines[lines.length - 1].matches(".*accuracy.*\\d.*"), lines[lines.length - 1]);
        assertEquals(0, run("eval", "--model", model.toString(), "--dataset", "spider", "--data", DATA.resolve("spider").toString(),
                "--limit", "2", "--constrained", "--beam", "2", "--execution-guided"), err);
        assertTrue(out.contains("2 questions scored"), out);
        assertEquals(1, run("eval", "--model", model.toString(), "--dataset", "spider", "--data", DATA.resolve("spider").toString(),
                "--execution-guided"));
        assertTrue(err.contains("--execution-guided needs --beam"), err);
        assertEquals(1, run("eval", "--model", model.toString(), "--dataset", "spider", "--data", DATA.resolve("spider").toString(),
                "--no-constrained", "--link-tables"));
        assertTrue(err.contains("--link-tables needs constrained decoding"), err);
        assertEquals(0, run("eval", "--model", model.toString(), "--dataset", "spider", "--data", DATA.resolve("spider").toString(),
                "--limit", "2", "--no-constrained"), err);
    }

    /**
     * ask and eval share their decoding flags and defaults (TextToSql's: constrained, a fallback beam of 4), so that
     * eval scores what ask answers; every flag either took before still parses in both.
     */
    @Test
    void askAndEvalDecodeAlike() {
        AskCommand ask = new AskCommand();
        new picocli.CommandLine(ask).parseArgs("--schema", "s.sql", "q?");
        EvalCommand eval = new EvalCommand();
        new picocli.CommandLine(eval).parseArgs("--dataset", "spider");
        dev.gpt4j.sql.TextToSql.Options defaults = dev.gpt4j.sql.TextToSql.Options.defaults();
        assertEquals(defaults, ask.decoding.options(defaults.decoding().batchSize()));
        assertEquals(defaults, eval.decoding.options(eval.batchSize));
        assertTrue(defaults.rules().constrained() && defaults.decoding().fallbackBeam() == 4, defaults.toString());
        String[] flags = {"--constrained", "--values-from-question", "--link-tables", "--one-condition-per-column", "--fallback-beam", "2",
                "--beam", "3"};
        ask = new AskCommand();
        new picocli.CommandLine(ask).parseArgs(concat(flags, "--schema", "s.sql", "q?"));
        eval = new EvalCommand();
        new picocli.CommandLine(eval).parseArgs(concat(flags, "--dataset", "spider", "--batch-size", "5"));
        var want = new dev.gpt4j.sql.TextToSql.Options(dev.gpt4j.sql.Decoding.DEFAULT.withBeam(3).withFallbackBeam(2),
                new dev.gpt4j.sql.SqlRules(true, true, true, true));
        assertEquals(want, ask.decoding.options(8));
        assertEquals(want.withDecoding(want.decoding().withBatchSize(5)), eval.decoding.options(eval.batchSize));
        eval = new EvalCommand();
        new picocli.CommandLine(eval).parseArgs("--dataset", "spider", "--no-constrained");
        assertEquals(dev.gpt4j.sql.SqlRules.FREE, eval.decoding.options(8).rules());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * eval --one-condition-per-column with the shipped model: on WikiSQL dev's first 30 questions, where it tests
     * a column twice without the rule (question 24: "Total amount of trees" < 1113 AND "Total amount of trees" = ...),
     * no answer does with it; with --no-constrained the flag is refused.
     */
    @Test
    void evalWithOneConditionPerColumn() throws Exception {
        String shipped = Path.of("..", "models", "gpt4j-sql").toString();
        int[] repeats = new int[2];
        for (int k = 0; k < 2; k++) {
            Path json = dir.resolve("wiki" + k + ".json");
            List<String> args = new java.util.ArrayList<>(List.of("eval", "--model", shipped, "--dataset", "wikisql", "--data",
                    DATA.resolve("wikisql").toString(), "--limit", "30", "--constrained", "--values-from-question", "--json", json.toString()));
            if (k == 1) args.add("--one-condition-per-column");
            assertEquals(0, run(args.toArray(String[]::new)), err);
            for (var item : new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile()).get("items")) {
                String sql = item.get("predicted").asText();
                int where = sql.indexOf(" WHERE ");
                if (where < 0) continue;
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\"(?:[^\"]|\"\")*\")\\s*(=|<|>)").matcher(sql.substring(where));
                java.util.Set<String> cols = new java.util.HashSet<>();
                boolean repeated = false;
                while (m.find()) repeated |= !cols.add(m.group(1));
                if (repeated) repeats[k]++;
            }
        }
        assertTrue(repeats[0] > 0, "without the rule some answer tests a column twice");
        assertEquals(0, repeats[1], "with it none does");
        assertEquals(1, run("eval", "--model", shipped, "--dataset", "wikisql", "--data", DATA.resolve("wikisql").toString(),
                "--no-constrained", "--one-condition-per-column"));
        assertTrue(err.contains("--one-condition-per-column needs constrained decoding"), err);
    }

    /** ask --beam N --execute DB with the shipped model: the query line, then its rows; a beam of 0 is refused. */
    @Test
    void askWithABeamRunsOnTheDatabase() {
        Path db = DATA.resolve("spider/database/concert_singer/concert_singer.sqlite");
        String shipped = Path.of("..", "models", "gpt4j-sql").toString();
        assertEquals(0, run("ask", "--model", shipped, "--execute", db.toString(), "--beam", "3", "--max-rows", "3",
                "How many singers do we have?"), err);
        String[] lines = out.strip().split("\n");
        assertTrue(lines[0].startsWith("SELECT") && lines.length > 1, out);
        assertEquals(1, run("ask", "--model", model.toString(), "--execute", db.toString(), "--beam", "0", "q?"));
        assertTrue(err.contains("--beam must be >= 1"), err);
    }

    @Test
    void convertWritesHalfPrecisionWeightsThatLoadBackRounded() throws Exception {
        Path half = dir.resolve("half");
        assertEquals(0, run("convert", "--model", model.toString(), "--out", half.toString(), "--dtype", "f16"), err);
        assertTrue(out.contains("F16"), out);
        long before = Files.size(model.resolve("model.safetensors")), after = Files.size(half.resolve("model.safetensors"));
        assertTrue(after < before * 0.6, before + " -> " + after);
        assertEquals(Files.readString(model.resolve("merges.txt")), Files.readString(half.resolve("merges.txt")));
        assertEquals(Files.readString(model.resolve("vocab.json")), Files.readString(half.resolve("vocab.json")));
        try (GptModel a = GptModel.load(model); GptModel b = GptModel.load(half)) {
            float[] x = a.params().values().toFloatVector(), y = b.params().values().toFloatVector();
            assertEquals(x.length, y.length);
            int changed = 0;
            for (int i = 0; i < x.length; i++) {
                // F16 keeps 11 significant bits: the rounding error is at most half a unit in the last place
                assertEquals(x[i], y[i], Math.abs(x[i]) * 0x1p-11 + 0x1p-25, "parameter " + i);
                if (x[i] != y[i]) changed++;
            }
            assertTrue(changed > 0, "the weights were not rounded: not F16?");
        }
        // the target must be new, and nothing is left behind by a failed run
        assertEquals(1, run("convert", "--model", model.toString(), "--out", half.toString()));
        assertTrue(err.contains("already exists") && err.strip().split("\n").length == 1, err);
        assertEquals(1, run("convert", "--model", dir.resolve("none").toString(), "--out", dir.resolve("x").toString()));
        assertTrue(err.contains("vocab.json"), err);
        assertFalse(Files.exists(dir.resolve("x")));
        assertEquals(1, run("convert", "--model", model.toString(), "--out", dir.resolve("y").toString(), "--dtype", "int3"));
        assertTrue(err.contains("int3"), err);
    }

    @Test
    void convertWithSeveralModelsWritesTheMeanOfTheirWeights() throws Exception {
        Path second = dir.resolve("second"), third = dir.resolve("third"), avg = dir.resolve("avg");
        GptConfig c = GptModel.load(model).config();
        for (Path p : List.of(second, third)) {
            try (GptModel m = GptModel.create(c, p == second ? 2 : 3)) {
                m.save(p);
            }
            for (String f : List.of("vocab.json", "merges.txt")) Files.copy(model.resolve(f), p.resolve(f));
        }
        assertEquals(0, run("convert", "--model", model.toString(), "--model", second.toString(), "--model", third.toString(),
                "--out", avg.toString(), "--dtype", "f32"), err);
        assertTrue(out.contains("average of 3 models"), out);
        try (GptModel a = GptModel.load(model); GptModel b = GptModel.load(second); GptModel d = GptModel.load(third);
             GptModel m = GptModel.load(avg)) {
            float[] x = a.params().values().toFloatVector(), y = b.params().values().toFloatVector(),
                    z = d.params().values().toFloatVector(), w = m.params().values().toFloatVector();
            int differ = 0;
            for (int i = 0; i < x.length; i++) {
                double mean = ((double) x[i] + y[i] + z[i]) / 3;
                assertEquals(mean, w[i], 1e-6 + Math.abs(mean) * 1e-6, "parameter " + i);
                if (x[i] != y[i]) differ++;
            }
            assertTrue(differ > x.length / 2, "the models should differ: " + differ);
        }
        // another configuration, or another tokenizer, is refused, and nothing is written
        Path wide = dir.resolve("wide");
        try (GptModel m = GptModel.create(new GptConfig(c.vocabSize(), c.contextLength(), 64, 1, 2, 0.0, 1e-5, true, true), 4)) {
            m.save(wide);
        }
        for (String f : List.of("vocab.json", "merges.txt")) Files.copy(model.resolve(f), wide.resolve(f));
        assertEquals(1, run("convert", "--model", model.toString(), "--model", wide.toString(), "--out", dir.resolve("bad").toString()));
        assertTrue(err.contains("configuration") && err.contains(wide.toString()), err);
        assertFalse(Files.exists(dir.resolve("bad")));
        Files.writeString(third.resolve("merges.txt"), "#version: 0.2\n");
        assertEquals(1, run("convert", "--model", model.toString(), "--model", third.toString(), "--out", dir.resolve("bad").toString()));
        assertTrue(err.contains(third.resolve("merges.txt").toString()) && err.contains("tokenizer"), err);
        assertFalse(Files.exists(dir.resolve("bad")));
    }
}
