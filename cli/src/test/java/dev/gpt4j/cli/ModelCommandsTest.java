package dev.gpt4j.cli;

import dev.gpt4j.core.GptConfig;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.PromptFormat;
import dev.gpt4j.inference.Generation;
import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.inference.Generator;
import dev.gpt4j.tokenizer.BpeTokenizer;
import dev.gpt4j.tokenizer.BpeTrainer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** generate, ask and eval on an untrained model folder: the plumbing, the errors and the last line of eval. */
class ModelCommandsTest extends CommandRun {
    static final Path DATA = Path.of(System.getProperty("gpt4j.data", "../../shared/data"));
    @TempDir
    static Path dir;
    static Path model;

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

    /**
     * generate --stats reports 12 new tokens and the MAX_TOKENS stop reason, and what it prints is what the library's
     * generator gives for the same model, prompt and sampling options: 12 tokens whose text is the printed line.
     */
    @Test
    void generateIsSeededAndStopsAtMaxTokens() {
        assertEquals(0, run("generate", "--model", model.toString(), "--prompt", "SELECT", "--max-tokens", "12", "--temperature", "1",
                "--top-k", "20", "--seed", "3", "--stats"), err);
        String first = out;
        java.util.regex.Matcher stats = java.util.regex.Pattern.compile("(\\d+) prompt tokens, (\\d+) new tokens, (\\w+), ").matcher(err);
        assertTrue(stats.find(), err);
        assertEquals("12", stats.group(2), err);
        assertEquals("MAX_TOKENS", stats.group(3), err);
        BpeTokenizer tok = BpeTokenizer.load(model);
        assertEquals(tok.encode("SELECT").length, Integer.parseInt(stats.group(1)), err);
        try (GptModel m = GptModel.load(model)) {
            Generation g = new Generator(m.eval(), tok).generate("SELECT", GenerationOptions.sampled(12, 1, 20, 1, 3));
            assertEquals(12, g.tokens().length);
            assertEquals(Generation.StopReason.MAX_TOKENS, g.stopReason());
            assertEquals(g.text() + System.lineSeparator(), first);
            assertEquals(g.text(), tok.decode(g.tokens()));
        }
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
        TestData.dir("spider", "wikisql");
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
        TestData.dir("wikisql");
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
    void askWithABeamRunsOnTheDatabase() throws Exception {
        TestData.dir("spider/database/concert_singer/concert_singer.sqlite");
        Path db = DATA.resolve("spider/database/concert_singer/concert_singer.sqlite");
        String shipped = Path.of("..", "models", "gpt4j-sql").toString();
        assertEquals(0, run("ask", "--model", shipped, "--execute", db.toString(), "--beam", "3", "--max-rows", "3",
                "How many singers do we have?"), err);
        assertPrintsTheRowsOfItsQuery(out, db, 3);
        assertEquals(1, run("ask", "--model", model.toString(), "--execute", db.toString(), "--beam", "0", "q?"));
        assertTrue(err.contains("--beam must be >= 1"), err);
    }

    /** ask --execute on the example database (no data sets needed): the rows printed are those of its SQL, run here by plain JDBC. */
    @Test
    void askExecutePrintsExactlyTheRowsOfItsQuery() throws Exception {
        Path db = Path.of("..", "examples", "employees.db");
        String shipped = Path.of("..", "models", "gpt4j-sql").toString();
        for (String q : List.of("Show me the average salary by department", "List the names of all employees", "How many projects are there?")) {
            assertEquals(0, run("ask", "--model", shipped, "--schema", Path.of("..", "examples", "employees.sql").toString(), "--execute",
                    db.toString(), "--max-rows", "5", q), err);
            assertPrintsTheRowsOfItsQuery(out, db, 5);
        }
    }

    /**
     * {@code out} is ask --execute's: the SQL, a header of column labels, the first {@code maxRows} rows ("a | b"),
     * then "(N rows)" or "... (N rows)"; each must be what plain JDBC gives for that SQL on {@code db}.
     */
    static void assertPrintsTheRowsOfItsQuery(String out, Path db, int maxRows) throws Exception {
        List<String> lines = out.strip().lines().toList();
        String sql = lines.get(0);
        assertTrue(sql.startsWith("SELECT"), out);
        List<String> header = new java.util.ArrayList<>();
        List<String> rows = new java.util.ArrayList<>();
        org.sqlite.SQLiteConfig ro = new org.sqlite.SQLiteConfig();
        ro.setReadOnly(true);
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath(), ro.toProperties());
             java.sql.Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            for (int i = 1; i <= n; i++) header.add(rs.getMetaData().getColumnLabel(i));
            while (rs.next()) {
                List<String> cells = new java.util.ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    Object v = rs.getObject(i);
                    cells.add(v == null ? "NULL" : v.toString());
                }
                rows.add(String.join(" | ", cells));
            }
        }
        List<String> expected = new java.util.ArrayList<>();
        expected.add(sql);
        expected.add(String.join(" | ", header));
        expected.addAll(rows.subList(0, Math.min(maxRows, rows.size())));
        expected.add(rows.size() > maxRows ? "... (" + rows.size() + " rows)" : "(" + rows.size() + (rows.size() == 1 ? " row)" : " rows)"));
        assertEquals(expected, lines, "ask --execute's rows against plain JDBC");
    }

    /**
     * eval's last line gives the count and accuracy computed independently. Spider: every item of the JSON report is
     * executed here, gold and predicted, by plain JDBC and compared as Spider's evaluation does (same rows as a
     * multiset, as a list when the gold orders them; columns in any order; 1 = 1.0), and the items are the first
     * questions of dev in order. WikiSQL: the printed predictions, scored by {@code gpt4j score}, give the same count.
     */
    @Test
    void evalsLastLineIsTheAccuracyComputedIndependently() throws Exception {
        TestData.dir("spider", "wikisql");
        String shipped = Path.of("..", "models", "gpt4j-sql").toString();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        int n = 20;

        Path spiderJson = dir.resolve("spider-eval.json");
        assertEquals(0, run("eval", "--model", shipped, "--dataset", "spider", "--data", DATA.resolve("spider").toString(), "--limit",
                String.valueOf(n), "--constrained", "--json", spiderJson.toString()), err);
        String last = lastLine();
        List<String> gold = Files.readAllLines(DATA.resolve("spider/dev_gold.sql")).subList(0, n);
        int correct = 0;
        int i = 0;
        for (var item : json.readTree(spiderJson.toFile()).get("items")) {
            assertEquals(i, item.get("index").asInt());
            assertEquals(gold.get(i), item.get("gold").asText() + "\t" + item.get("db").asText(), "item " + i + " is dev question " + i);
            Path db = DATA.resolve("spider/database").resolve(item.get("db").asText()).resolve(item.get("db").asText() + ".sqlite");
            boolean same = sameResult(db, item.get("gold").asText(), item.get("predicted").asText());
            assertEquals(same, item.get("correct").asBoolean(), "item " + i + ": " + item);
            if (same) correct++;
            i++;
        }
        assertEquals(n, i);
        assertTrue(correct > 0, "the shipped model answers some of Spider's first questions");
        assertEquals(String.format(java.util.Locale.ROOT, "execution accuracy: %.2f%% (%d/%d)", 100.0 * correct / n, correct, n), last);

        Path wikiJson = dir.resolve("wikisql-eval.json");
        assertEquals(0, run("eval", "--model", shipped, "--dataset", "wikisql", "--data", DATA.resolve("wikisql").toString(), "--limit",
                String.valueOf(n), "--constrained", "--values-from-question", "--json", wikiJson.toString()), err);
        last = lastLine();
        List<String> predictions = new java.util.ArrayList<>();
        for (var item : json.readTree(wikiJson.toFile()).get("items")) predictions.add(item.get("predicted").asText());
        assertEquals(n, predictions.size());
        int all = (int) Files.lines(DATA.resolve("wikisql/dev.jsonl")).count();
        while (predictions.size() < all) predictions.add(""); // an empty line is a wrong prediction
        Path file = Files.write(dir.resolve("wikisql-predictions.sql"), predictions);
        Path scored = dir.resolve("wikisql-score.json");
        assertEquals(0, run("score", "--dataset", "wikisql", "--data", DATA.resolve("wikisql").toString(), "--predictions", file.toString(),
                "--json", scored.toString()), err);
        correct = 0;
        for (var item : json.readTree(scored.toFile()).get("items")) {
            if (item.get("index").asInt() >= n) assertFalse(item.get("correct").asBoolean());
            else if (item.get("correct").asBoolean()) correct++;
        }
        assertTrue(correct > 0, "the shipped model answers some of WikiSQL's first questions");
        assertEquals(String.format(java.util.Locale.ROOT, "logical-form accuracy: %.2f%% (%d/%d)", 100.0 * correct / n, correct, n), last);
    }

    String lastLine() {
        String[] lines = out.strip().split("\n");
        return lines[lines.length - 1];
    }

    /** Spider's execution match, computed here: an error or a different result is wrong. */
    static boolean sameResult(Path db, String gold, String predicted) throws Exception {
        List<List<String>> g = rows(db, gold), p;
        try {
            p = rows(db, predicted);
        } catch (java.sql.SQLException e) {
            return false;
        }
        if (g.size() != p.size() || (!g.isEmpty() && g.get(0).size() != p.get(0).size())) return false;
        boolean ordered = gold.toLowerCase(java.util.Locale.ROOT).contains("order by");
        int cols = g.isEmpty() ? 0 : g.get(0).size();
        for (List<Integer> perm : permutations(cols)) {
            List<List<String>> q = new java.util.ArrayList<>();
            for (List<String> r : p) {
                List<String> row = new java.util.ArrayList<>();
                for (int c : perm) row.add(r.get(c));
                q.add(row);
            }
            if (ordered ? g.equals(q) : sorted(g).equals(sorted(q))) return true;
        }
        return cols == 0;
    }

    static List<List<String>> sorted(List<List<String>> rows) {
        List<List<String>> out = new java.util.ArrayList<>(rows);
        out.sort(java.util.Comparator.comparing(Object::toString));
        return out;
    }

    static List<List<Integer>> permutations(int n) {
        if (n == 0) return List.of(List.of());
        List<List<Integer>> out = new java.util.ArrayList<>();
        for (List<Integer> p : permutations(n - 1)) {
            for (int at = 0; at <= p.size(); at++) {
                List<Integer> q = new java.util.ArrayList<>(p);
                q.add(at, n - 1);
                out.add(q);
            }
        }
        return out;
    }

    /** The rows of {@code sql} on {@code db} (read-only), numbers as doubles so that 1 = 1.0. */
    static List<List<String>> rows(Path db, String sql) throws java.sql.SQLException {
        org.sqlite.SQLiteConfig ro = new org.sqlite.SQLiteConfig();
        ro.setReadOnly(true);
        List<List<String>> out = new java.util.ArrayList<>();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + db.toAbsolutePath(), ro.toProperties());
             java.sql.Statement st = c.createStatement(); java.sql.ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new java.util.ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    Object v = rs.getObject(i);
                    row.add(v instanceof Number x ? "n" + x.doubleValue() : v == null ? "null" : "s" + v);
                }
                out.add(row);
            }
        }
        return out;
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
